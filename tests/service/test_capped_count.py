"""v1 claim and audit lists count at most `API_LIST_COUNT_CAP` rows and serve no page past them."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.demo import seed_claims, seed_patients
from billing.models import AuditEvent, Payer

pytestmark = pytest.mark.integration

CLAIMS = 30


@pytest.fixture
def tenant(acme, globex, db):
    payers = [Payer.objects.create(code=f"C{i}", name=f"Payer {i}") for i in range(3)]
    seed_claims(
        acme.customer,
        count=CLAIMS,
        patients=seed_patients(acme.customer, count=5),
        payers=[p.pk for p in payers],
    )
    # Another tenant's claims count for nobody else.
    seed_claims(
        globex.customer, count=50, patients=seed_patients(globex.customer, count=5), payers=[payers[0].pk]
    )
    return acme


def _get(client, url):
    response = client.get(url)
    return response.status_code, response.json()


def test_under_the_cap_the_count_is_exact(tenant, settings):
    settings.API_LIST_COUNT_CAP = CLAIMS
    status, body = _get(tenant.client, "/api/v1/claims/?page_size=7")
    assert status == 200, body
    assert (body["count"], body["count_capped"]) == (CLAIMS, False)
    assert list(body)[:2] == ["count", "count_capped"]


def test_past_the_cap_the_count_is_the_cap_and_pages_stop_there(tenant, settings):
    settings.API_LIST_COUNT_CAP = 12
    status, body = _get(tenant.client, "/api/v1/claims/?page_size=5")
    assert status == 200, body
    assert (body["count"], body["count_capped"]) == (12, True)
    numbers = [row["number"] for row in body["results"]]
    status, last = _get(tenant.client, "/api/v1/claims/?page_size=5&page=3")
    assert status == 200, last
    # The third page holds the cap's last two rows, and has no next page.
    numbers += [row["number"] for row in last["results"]]
    assert numbers == [30, 29, 28, 27, 26, 20, 19]
    assert last["next"] is None
    status, past = _get(tenant.client, "/api/v1/claims/?page_size=5&page=4")
    assert status == 404, past
    assert "first 12 matching rows" in past["detail"]
    assert "/api/v2/" in past["detail"]


def test_a_page_past_the_end_under_the_cap_is_a_plain_404(tenant, settings):
    settings.API_LIST_COUNT_CAP = 100
    status, body = _get(tenant.client, "/api/v1/claims/?page_size=10&page=4")
    assert status == 404, body
    assert "/api/v2/" not in body["detail"]


def test_the_cap_counts_the_filtered_rows(tenant, settings):
    settings.API_LIST_COUNT_CAP = 1_000
    submitted = tenant.customer.claims.filter(status="submitted").count()
    assert 0 < submitted < CLAIMS
    status, body = _get(tenant.client, "/api/v1/claims/?status=submitted")
    assert status == 200, body
    assert (body["count"], body["count_capped"]) == (submitted, False)


def test_the_count_reads_at_most_one_row_past_the_cap(tenant, settings):
    settings.API_LIST_COUNT_CAP = 12
    with CaptureQueriesContext(connection) as captured:
        status, _ = _get(tenant.client, "/api/v1/claims/?ordering=-billed_amount")
    assert status == 200
    counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1, counts
    assert "LIMIT 13" in counts[0]
    # The page's order is not the count's: no sort before the LIMIT.
    assert "ORDER BY" not in counts[0]


def test_the_audit_list_is_capped_too(tenant, settings):
    AuditEvent.objects.bulk_create(
        AuditEvent(
            actor=tenant.user, customer=tenant.customer, action="read", object_type="claim", object_id=str(i)
        )
        for i in range(20)
    )
    settings.API_LIST_COUNT_CAP = 8
    status, body = _get(tenant.client, "/api/v1/audit-events/")
    assert status == 200, body
    assert (body["count"], body["count_capped"], len(body["results"])) == (8, True, 8)


def test_the_patient_list_keeps_an_exact_count(tenant, settings):
    settings.API_LIST_COUNT_CAP = 2
    status, body = _get(tenant.client, "/api/v1/patients/")
    assert status == 200, body
    assert body["count"] == 5
    assert "count_capped" not in body
