"""Bad input is a 4xx with a JSON error that says what to fix; it never writes a row."""

from __future__ import annotations

import json

import pytest

from billing.models import AuditEvent, Claim, Patient

pytestmark = pytest.mark.integration


def _counts():
    return Claim.objects.count(), Patient.objects.count(), AuditEvent.objects.count()


def _claim_body(world, **overrides):
    body = {
        "patient": world.acme_patient.pk,
        "payer": world.payers[0].pk,
        "billed_amount": "10.00",
        "service_date": "2026-01-01",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


CLAIM_CASES = {
    "negative amount": {"billed_amount": "-5.00"},
    "zero amount": {"billed_amount": "0"},
    "too many digits": {"billed_amount": "12345678901.00"},
    "too many decimals": {"billed_amount": "1.001"},
    "amount not a number": {"billed_amount": "lots"},
    "patient not an id": {"patient": "abc"},
    "unknown patient": {"patient": 987654},
    "unknown payer": {"payer": 987654},
    "payer closed": {"payer": "LEGACY"},
    "date not a date": {"service_date": "yesterday"},
    "date in the future": {"service_date": "2999-01-01"},
    "missing amount": {"billed_amount": None},
    "list instead of a string": {"billed_amount": ["1"]},
}


@pytest.mark.parametrize("case", CLAIM_CASES)
def test_invalid_claim_bodies_are_refused(world, case):
    overrides = dict(CLAIM_CASES[case])
    if overrides.get("payer") == "LEGACY":
        overrides["payer"] = world.payers[2].pk
    before = _counts()
    response = world.acme.client.post("/api/v1/claims/", _claim_body(world, **overrides))
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["detail"]
    assert body["errors"]
    assert _counts() == before


@pytest.mark.parametrize(
    "raw",
    ['{"patient": 1,', "not json at all", "[1, 2, 3]", '"a string"', "null"],
)
def test_malformed_json_is_refused(world, raw):
    before = _counts()
    response = world.acme.client.post("/api/v1/claims/", raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"]
    assert _counts() == before


def test_a_body_that_is_not_json_is_refused(world):
    response = world.acme.client.post(
        "/api/v1/claims/", "a=1", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert "Unsupported media type" in response.json()["detail"]


TRANSITION_CASES = [
    ({"status": "shipped"}, "status"),
    ({"status": "paid", "paid_amount": "10.00"}, "status"),  # submitted cannot jump to paid
    ({"status": "submitted"}, "status"),
    ({}, "status"),
    ({"status": "accepted", "paid_amount": "1.00"}, "paid_amount"),
    ({"status": "accepted", "denial_reason": "x"}, "denial_reason"),
    ({"status": "accepted", "extra": 1}, "extra"),
]


@pytest.mark.parametrize(("body", "field"), TRANSITION_CASES)
def test_invalid_transitions_are_refused(world, body, field):
    before = _counts()
    response = world.acme.client.post(f"/api/v1/claims/{world.acme_claim.pk}/transition/", body)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert Claim.objects.get(pk=world.acme_claim.pk).status == "submitted"
    assert _counts() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "paid"}, "paid_amount"),
        ({"status": "paid", "paid_amount": "100.01"}, "paid_amount"),  # more than billed
        ({"status": "paid", "paid_amount": "-1.00"}, "paid_amount"),
        ({"status": "denied"}, "denial_reason"),
    ],
)
def test_paying_or_denying_needs_valid_details(world, body, field):
    url = f"/api/v1/claims/{world.acme_claim.pk}/transition/"
    world.acme.client.post(url, {"status": "accepted"})
    before = _counts()
    response = world.acme.client.post(url, body)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert Claim.objects.get(pk=world.acme_claim.pk).status == "accepted"
    assert _counts() == before


def test_a_final_claim_cannot_move_again(world):
    url = f"/api/v1/claims/{world.acme_claim.pk}/transition/"
    world.acme.client.post(url, {"status": "accepted"})
    world.acme.client.post(url, {"status": "denied", "denial_reason": "No"})
    response = world.acme.client.post(url, {"status": "paid", "paid_amount": "1.00"})
    assert response.status_code == 400
    assert "denied is final" in response.json()["detail"]


@pytest.mark.parametrize(
    "query",
    [
        "page_size=101",
        "page_size=0",
        "page_size=ten",
        "status=lost",
        "billed_min=cheap",
        "service_date_after=soon",
        "ordering=password",
        "payer=x",
    ],
)
def test_invalid_list_parameters_are_refused(world, query):
    before = _counts()
    response = world.acme.client.get(f"/api/v1/claims/?{query}")
    assert response.status_code == 400
    body = response.json()
    assert body["errors"]
    assert _counts() == before


def test_an_oversized_page_names_the_limit(world):
    response = world.acme.client.get("/api/v1/claims/?page_size=500")
    assert response.json()["errors"] == {"page_size": ["Must be a whole number from 1 to 100; got '500'."]}


def test_a_page_past_the_end_is_not_found(world):
    response = world.acme.client.get("/api/v1/claims/?page=99")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    "body",
    [
        {"first_name": "A", "last_name": "B", "date_of_birth": "3000-01-01"},
        {"first_name": "A", "last_name": "B", "date_of_birth": "1990-02-30"},
        {"first_name": "", "last_name": "B", "date_of_birth": "1990-01-01"},
        {"first_name": "A" * 101, "last_name": "B", "date_of_birth": "1990-01-01"},
        {"first_name": "A", "last_name": "B", "date_of_birth": "1990-01-01", "customer": 1},
    ],
)
def test_invalid_patients_are_refused(world, body):
    before = _counts()
    response = world.acme.client.post("/api/v1/patients/", json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"]
    assert _counts() == before


def test_a_huge_id_is_not_found_rather_than_a_database_error(world):
    assert world.acme.client.get("/api/v1/claims/99999999999999999999999/").status_code == 404
