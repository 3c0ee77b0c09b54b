"""Hostile input gets a 4xx in the JSON error shape, never a 500, and costs little to answer."""

from __future__ import annotations

import json
import threading
from decimal import Decimal

import pytest
from django.db import connection
from rest_framework.test import APIClient

from billing.models import AuditEvent, Patient, Role
from config.access_log import json_escaped

pytestmark = pytest.mark.integration


def _shape(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["detail"]
    assert body["code"]
    if status == 400:
        assert isinstance(body["errors"], dict)
    return body


@pytest.mark.parametrize("depth", [100, 50_000])
def test_deeply_nested_json_is_a_400_for_members_and_anonymous_logins(world, depth):
    raw = "[" * depth + "]" * depth if depth < 1000 else '{"a":' * depth + "1" + "}" * depth
    raw = raw[: 60 * 1024] if len(raw) > 60 * 1024 else raw
    _shape(world.acme.client.post("/api/v1/claims/", raw, content_type="application/json"), 400)
    _shape(APIClient().post("/api/v1/auth/login/", raw, content_type="application/json"), 400)


def test_a_body_over_the_limit_is_a_413(world, settings):
    body = json.dumps({"note": "x" * (settings.API_MAX_BODY_BYTES + 10)})
    _shape(world.acme.client.post("/api/v1/claims/", body, content_type="application/json"), 413)


def test_thousands_of_unknown_keys_get_a_short_answer(world):
    body = {f"k{i}": i for i in range(3000)}
    response = world.acme.client.post("/api/v1/patients/", body)
    errors = _shape(response, 400)["errors"]
    assert len(errors) <= 21
    assert len(response.content) < 5000


@pytest.mark.parametrize(
    "query",
    [
        "payer=99999999999999999999999",
        "payer=1.5",
        "patient=-1",
        "billed_min=1e400",
        "billed_max=123456789012345",
        "page=99999999999999999999",
    ],
)
def test_filter_values_that_overflow_or_truncate_are_refused(world, query):
    response = world.acme.client.get(f"/api/v1/claims/?{query}")
    assert response.status_code in (400, 404), response.content
    _shape(response, response.status_code)


@pytest.mark.parametrize("patient", [1.5, True, "9" * 30, "1e3"])
def test_an_id_in_a_body_is_a_whole_bigint(world, patient):
    body = {
        "patient": patient,
        "payer": world.payers[0].pk,
        "billed_amount": "1.00",
        "service_date": "2026-01-01",
    }
    assert "patient" in _shape(world.acme.client.post("/api/v1/claims/", body), 400)["errors"]


def test_a_parse_error_names_the_body_in_errors(world):
    body = _shape(world.acme.client.post("/api/v1/claims/", "{", content_type="application/json"), 400)
    assert list(body["errors"]) == ["body"]


def test_an_invalid_token_with_a_foreign_accept_header_is_a_json_error(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token nope")
    response = client.get("/api/v1/claims/1/", HTTP_ACCEPT="text/html")
    assert response.status_code in (401, 406)
    assert response.json()["code"]


def test_unknown_urls_and_options_answer_in_json(world):
    _shape(world.acme.client.get("/nowhere/"), 404)
    _shape(world.acme.client.options(f"/api/v1/claims/{world.globex_claim.pk}/"), 405)


def test_payer_totals_past_twelve_digits_are_summed_and_shown(world, new_claim):
    for _ in range(3):
        new_claim(world.acme, world.acme_patient, world.payers[0], billed="9999999999.99")
    response = world.acme.client.get(f"/api/v1/payers/summary/?payer={world.payers[0].pk}")
    assert response.status_code == 200, response.content
    assert Decimal(response.json()["results"][0]["billed_total"]) == Decimal("29999999999.97") + Decimal(
        "100.00"
    )


def test_every_api_response_forbids_caching(world):
    for response in (world.acme.client.get("/api/v1/claims/"), APIClient().get("/api/v1/claims/")):
        assert "no-store" in response["Cache-Control"]


def test_refused_and_recorded_reads_of_the_trail_and_the_summary(world, new_member):
    biller = new_member(world.acme.customer, "acme-biller", Role.BILLER)
    assert biller.client.get("/api/v1/audit-events/").status_code == 403
    world.acme.client.get("/api/v1/payers/summary/")
    world.acme.client.get("/api/v1/audit-events/")
    rows = set(AuditEvent.objects.values_list("actor__username", "action", "object_type", "outcome"))
    assert {
        ("acme-biller", "denied", "audit_event", "denied"),
        ("acme-admin", "list", "payer_summary", "success"),
        ("acme-admin", "list", "audit_event", "success"),
    } <= rows


def test_access_log_fields_cannot_break_the_json_line():
    line = '{"path": "' + json_escaped('/a"b\n{"forged": 1}') + '"}'
    assert json.loads(line) == {"path": '/a"b\n{"forged": 1}'}


def test_two_parallel_deletes_of_one_patient_delete_once(flushable_audit_trail, transactional_db):
    from django.contrib.auth.models import User
    from knox.models import AuthToken

    from billing.models import Customer, Membership

    customer = Customer.objects.create(name="Race Clinic")
    user = User.objects.create_user(username="racer", password="x")
    Membership.objects.create(user=user, customer=customer, role=Role.ADMIN)
    _, token = AuthToken.objects.create(user=user)
    patient = Patient.objects.create(
        customer=customer, first_name="A", last_name="B", date_of_birth="1990-01-01"
    )
    statuses: list[int] = []
    barrier = threading.Barrier(2)

    def delete() -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        barrier.wait()
        statuses.append(client.delete(f"/api/v1/patients/{patient.pk}/").status_code)
        connection.close()

    threads = [threading.Thread(target=delete) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [204, 404]
    assert AuditEvent.objects.filter(action="delete", object_type="patient").count() == 1


def test_a_time_zone_offset_postgresql_cannot_store_is_a_400(world):
    response = world.acme.client.get("/api/v1/audit-events/?occurred_before=0233-11-23T14:04:52%2B22:37")
    _shape(response, 400)


@pytest.mark.parametrize("path", ["/api/v1/claims/0.5/", "/api/v2/patients/1.x/"])
def test_an_unknown_format_suffix_with_a_bad_token_is_a_404_not_a_500(world, path):
    """Content negotiation refuses the suffix before authentication runs; the refusal's audit
    must not run the failing authentication again."""
    anonymous = APIClient()
    anonymous.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    before = AuditEvent.objects.count()
    _shape(anonymous.put(path, {"note": "x"}, format="json"), 404)
    assert AuditEvent.objects.count() == before
