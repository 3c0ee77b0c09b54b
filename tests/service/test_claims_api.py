"""The claims endpoints end to end: submit, list with filters, read, edit, transition, withdraw."""

from __future__ import annotations

import pytest

from billing.models import AuditEvent, Claim

pytestmark = pytest.mark.integration


def test_submitting_a_claim_numbers_it_and_returns_it(world):
    response = world.acme.client.post(
        "/api/v1/claims/",
        {
            "patient": world.acme_patient.pk,
            "payer": world.payers[0].pk,
            "billed_amount": "250.10",
            "service_date": "2026-02-01",
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["number"] == 2
    assert body["status"] == "submitted"
    assert body["billed_amount"] == "250.10"
    assert body["paid_amount"] == "0.00"
    assert body["patient_name"] == "Jane Adams"
    assert body["payer_name"] == "Aetna"


def test_a_claim_goes_submitted_accepted_paid(world):
    url = f"/api/v1/claims/{world.acme_claim.pk}/transition/"
    assert world.acme.client.post(url, {"status": "accepted"}).json()["status"] == "accepted"
    paid = world.acme.client.post(url, {"status": "paid", "paid_amount": "80.00"})
    assert paid.status_code == 200
    assert paid.json()["status"] == "paid"
    assert paid.json()["paid_amount"] == "80.00"


def test_a_denied_claim_keeps_its_reason(world):
    url = f"/api/v1/claims/{world.acme_claim.pk}/transition/"
    world.acme.client.post(url, {"status": "accepted"})
    denied = world.acme.client.post(url, {"status": "denied", "denial_reason": "Not covered"})
    assert denied.json()["denial_reason"] == "Not covered"
    assert denied.json()["paid_amount"] == "0.00"


def test_a_submitted_claim_can_be_edited_and_withdrawn(world):
    url = f"/api/v1/claims/{world.acme_claim.pk}/"
    edited = world.acme.client.patch(url, {"billed_amount": "120.00"})
    assert edited.status_code == 200
    assert edited.json()["billed_amount"] == "120.00"
    replaced = world.acme.client.put(
        url,
        {
            "patient": world.acme_patient.pk,
            "payer": world.payers[1].pk,
            "billed_amount": "99.99",
            "service_date": "2026-01-02",
        },
    )
    assert replaced.status_code == 200, replaced.json()
    assert replaced.json()["payer_name"] == "Cigna"
    assert world.acme.client.delete(url).status_code == 204
    assert not Claim.objects.filter(pk=world.acme_claim.pk).exists()


def test_an_accepted_claim_can_no_longer_be_edited_or_withdrawn(world):
    url = f"/api/v1/claims/{world.acme_claim.pk}/"
    world.acme.client.post(f"{url}transition/", {"status": "accepted"})
    edited = world.acme.client.patch(url, {"billed_amount": "120.00"})
    assert edited.status_code == 400
    assert edited.json()["code"] == "claim_locked"
    assert world.acme.client.delete(url).status_code == 400
    assert Claim.objects.get(pk=world.acme_claim.pk).billed_amount == 100


@pytest.fixture
def three_claims(world, new_patient, new_claim):
    """Acme's claims: 1 (100.00, Jan, Adams, Aetna), 2 (200.00, Feb, Adams, Cigna),
    3 (300.00, Mar, Zed, Aetna)."""
    new_claim(world.acme, world.acme_patient, world.payers[1], "200.00", "2026-02-10")
    zed = new_patient(world.acme, "Zed")
    new_claim(world.acme, zed, world.payers[0], "300.00", "2026-03-05")
    return world


@pytest.mark.parametrize(
    ("query", "expected_numbers"),
    [
        ("", [3, 2, 1]),
        ("status=submitted", [3, 2, 1]),
        ("status=accepted", []),
        ("payer={cigna}", [2]),
        ("patient={adams}", [2, 1]),
        ("billed_min=150", [3, 2]),
        ("billed_max=150", [1]),
        ("service_date_after=2026-03-01", [3]),
        ("service_date_before=2026-01-31", [1]),
        ("service_date_after=2026-02-01&service_date_before=2026-02-28", [2]),
        ("search=zed", [3]),
        ("search=2", [2]),
        ("ordering=billed_amount", [1, 2, 3]),
        ("ordering=-service_date", [3, 2, 1]),
    ],
)
def test_claim_list_filters(three_claims, query, expected_numbers):
    query = query.format(cigna=three_claims.payers[1].pk, adams=three_claims.acme_patient.pk)
    response = three_claims.acme.client.get(f"/api/v1/claims/?{query}")
    assert response.status_code == 200, response.json()
    assert [row["number"] for row in response.json()["results"]] == expected_numbers


def test_claim_list_pages(three_claims):
    first = three_claims.acme.client.get("/api/v1/claims/?page_size=2").json()
    assert first["count"] == 3
    assert [row["number"] for row in first["results"]] == [3, 2]
    second = three_claims.acme.client.get(first["next"]).json()
    assert [row["number"] for row in second["results"]] == [1]
    assert second["next"] is None


def test_reading_a_claim_is_audited(world):
    response = world.acme.client.get(f"/api/v1/claims/{world.acme_claim.pk}/", HTTP_X_REQUEST_ID="req-42")
    assert response.status_code == 200
    assert response["X-Request-ID"] == "req-42"
    event = AuditEvent.objects.get(action="read")
    assert (event.object_type, event.object_id, event.request_id) == (
        "claim",
        str(world.acme_claim.pk),
        "req-42",
    )
    assert event.actor == world.acme.user
