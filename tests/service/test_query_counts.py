"""Every list costs the same few queries whatever the page size: no N+1."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.demo import seed_claims, seed_patients
from billing.models import AuditEvent, Payer
from billing.selectors.claims import payer_summary_reads_rollup

pytestmark = pytest.mark.integration

LISTS = [
    "/api/v1/claims/",
    "/api/v1/claims/?status=submitted&ordering=-billed_amount&search=a",
    "/api/v1/patients/",
    "/api/v1/payers/",
    "/api/v1/payers/active/",
    "/api/v1/payers/summary/",
    "/api/v1/audit-events/",
    "/api/v2/claims/",
    "/api/v2/claims/?status=submitted&search=a&service_date_after=2020-01-01",
    "/api/v2/payers/summary/",
    "/api/v2/audit-events/",
    "/api/v2/audit-events/?object_type=claim",
]
# token, tenant and row-level-security setting (one statement), the shared
# throttle counter, count, page, and the audit row of the list.
MAX_QUERIES = 5
# A cursor page (/api/v2/) has no count: one statement fewer.
MAX_CURSOR_QUERIES = 4


@pytest.fixture
def busy_tenant(acme, globex, db):
    payers = [Payer.objects.create(code=f"P{i}", name=f"Payer {i}") for i in range(12)]
    patients = seed_patients(acme.customer, count=120)
    seed_claims(acme.customer, count=150, patients=patients, payers=[p.pk for p in payers])
    AuditEvent.objects.bulk_create(
        AuditEvent(
            actor=acme.user, customer=acme.customer, action="read", object_type="claim", object_id=str(i)
        )
        for i in range(120)
    )
    # The first summary of a process looks up where it reads from; later ones do not.
    payer_summary_reads_rollup()
    return acme


def _queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.json()
    return len(captured), len(response.json()["results"])


@pytest.mark.parametrize("url", LISTS)
def test_list_query_count_does_not_grow_with_the_page(busy_tenant, url):
    sep = "&" if "?" in url else "?"
    small, small_rows = _queries(busy_tenant.client, f"{url}{sep}page_size=1")
    large, large_rows = _queries(busy_tenant.client, f"{url}{sep}page_size=100")
    assert small_rows == 1
    assert large_rows > 1
    assert small == large
    assert large <= MAX_QUERIES


def test_payer_summary_is_one_aggregate_query(busy_tenant):
    with CaptureQueriesContext(connection) as captured:
        response = busy_tenant.client.get("/api/v1/payers/summary/?page_size=5")
    assert response.json()["count"] == 12
    grouped = [q["sql"] for q in captured.captured_queries if "GROUP BY" in q["sql"]]
    assert len(grouped) == 1
    assert len(captured) == 4  # the token lookup, the throttle counter, the aggregate, its audit row


def test_only_the_first_summary_of_a_process_looks_up_its_source(busy_tenant):
    payer_summary_reads_rollup.cache_clear()
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as captured:
            busy_tenant.client.get("/api/v1/payers/summary/")
        counts.append(sum("django_migrations" in q["sql"] for q in captured.captured_queries))
    assert counts == [1, 0]
    assert len(captured) == 4


@pytest.mark.parametrize("url", ["/api/v2/claims/?page_size=7", "/api/v2/audit-events/?page_size=7"])
def test_a_cursor_page_costs_the_same_at_any_depth_and_has_no_count(busy_tenant, url):
    client = busy_tenant.client
    with CaptureQueriesContext(connection) as first_page:
        first = client.get(url).json()
    with CaptureQueriesContext(connection) as next_page:
        second = client.get(first["next"]).json()
    assert set(first) == {"next", "previous", "results"}
    assert len(first["results"]) == len(second["results"]) == 7
    assert not {row["id"] for row in first["results"]} & {row["id"] for row in second["results"]}
    assert len(first_page) == len(next_page) <= MAX_CURSOR_QUERIES
    assert not any("COUNT(" in q["sql"].upper() for q in next_page.captured_queries)
    assert second["previous"]


def test_claims_by_cursor_come_newest_number_first(busy_tenant):
    rows = busy_tenant.client.get("/api/v2/claims/?page_size=100").json()["results"]
    numbers = [row["number"] for row in rows]
    assert numbers == sorted(numbers, reverse=True)
    assert numbers[0] == 150


def test_a_forged_cursor_is_a_404_not_a_500(busy_tenant):
    response = busy_tenant.client.get("/api/v2/claims/?cursor=!!!not-base64")
    assert response.status_code == 404


def test_the_tenant_for_row_level_security_costs_no_statement_of_its_own(busy_tenant):
    with CaptureQueriesContext(connection) as captured:
        busy_tenant.client.get("/api/v1/claims/?page_size=5")
    statements = [q["sql"] for q in captured.captured_queries]
    setting = [sql for sql in statements if "set_config" in sql]
    assert len(setting) == 1
    assert "knox_authtoken" in setting[0]
    assert sum("billing_ratecounter" in sql for sql in statements) == 1


def test_a_claim_submission_writes_in_one_statement(busy_tenant):
    patient = busy_tenant.customer.patients.order_by("id").first()
    payer = Payer.objects.filter(is_active=True).order_by("id").first()
    body = {"patient": patient.pk, "payer": payer.pk, "billed_amount": "10.00", "service_date": "2024-01-02"}
    with CaptureQueriesContext(connection) as captured:
        response = busy_tenant.client.post("/api/v1/claims/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["number"] == 151
    statements = [
        q["sql"] for q in captured.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
    ]
    # token and tenant, throttle counter, patient and payer, then the number, the claim and its
    # audit row in one statement
    assert len(statements) == 4, statements
    assert sum("UPDATE billing_customer" in sql for sql in statements) == 1
    assert not any("FOR UPDATE" in sql for sql in statements)
    claim_id = response.json()["id"]
    event = AuditEvent.objects.get(action="create", object_type="claim", object_id=str(claim_id))
    assert (event.customer_id, event.actor_id) == (busy_tenant.customer.pk, busy_tenant.user.pk)
