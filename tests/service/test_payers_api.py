"""The payer directory and the per-payer summary of a tenant's claims."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


def _results(member, url):
    response = member.client.get(url)
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def test_the_directory_lists_and_filters_payers(world):
    assert [p["code"] for p in _results(world.acme, "/api/v1/payers/")] == ["AETNA", "CIGNA", "LEGACY"]
    assert [p["code"] for p in _results(world.acme, "/api/v1/payers/?is_active=false")] == ["LEGACY"]
    assert [p["code"] for p in _results(world.acme, "/api/v1/payers/?name=cig")] == ["CIGNA"]
    payer = world.acme.client.get(f"/api/v1/payers/{world.payers[0].pk}/").json()
    assert payer == {"id": world.payers[0].pk, "code": "AETNA", "name": "Aetna", "is_active": True}


def test_active_lists_only_payers_accepting_claims(world):
    assert [p["code"] for p in _results(world.acme, "/api/v1/payers/active/")] == ["AETNA", "CIGNA"]
    assert [p["code"] for p in _results(world.acme, "/api/v1/payers/active/?code=CIGNA")] == ["CIGNA"]


def test_a_claim_to_a_closed_payer_is_refused(world):
    response = world.acme.client.post(
        "/api/v1/claims/",
        {
            "patient": world.acme_patient.pk,
            "payer": world.payers[2].pk,
            "billed_amount": "5.00",
            "service_date": "2026-01-01",
        },
    )
    assert response.status_code == 400
    assert "LEGACY no longer accepts claims" in response.json()["errors"]["payer"][0]


@pytest.fixture
def billed(world, new_claim):
    """Acme: Aetna 100 (paid 80), 50 (denied); Cigna 30 (submitted, dated in March)."""
    client = world.acme.client
    first = world.acme_claim
    client.post(f"/api/v1/claims/{first.pk}/transition/", {"status": "accepted"})
    client.post(f"/api/v1/claims/{first.pk}/transition/", {"status": "paid", "paid_amount": "80.00"})
    denied = new_claim(world.acme, world.acme_patient, world.payers[0], "50.00")
    client.post(f"/api/v1/claims/{denied.pk}/transition/", {"status": "accepted"})
    client.post(f"/api/v1/claims/{denied.pk}/transition/", {"status": "denied", "denial_reason": "No"})
    new_claim(world.acme, world.acme_patient, world.payers[1], "30.00", "2026-03-01")
    return world


def test_summary_aggregates_the_callers_claims_per_payer(billed):
    rows = _results(billed.acme, "/api/v1/payers/summary/")
    assert rows == [
        {
            "payer": billed.payers[0].pk,
            "payer_code": "AETNA",
            "payer_name": "Aetna",
            "claim_count": 2,
            "denied_count": 1,
            "billed_total": "150.00",
            "paid_total": "80.00",
            "denial_rate": 0.5,
        },
        {
            "payer": billed.payers[1].pk,
            "payer_code": "CIGNA",
            "payer_name": "Cigna",
            "claim_count": 1,
            "denied_count": 0,
            "billed_total": "30.00",
            "paid_total": "0.00",
            "denial_rate": 0.0,
        },
    ]


def test_summary_filters_by_payer_and_service_date(billed):
    assert [
        r["payer_code"] for r in _results(billed.acme, f"/api/v1/payers/summary/?payer={billed.payers[1].pk}")
    ] == ["CIGNA"]
    rows = _results(billed.acme, "/api/v1/payers/summary/?service_date_after=2026-02-01")
    assert [(r["payer_code"], r["claim_count"]) for r in rows] == [("CIGNA", 1)]


def test_summary_of_the_other_tenant_sees_only_its_own_claim(billed):
    rows = _results(billed.globex, "/api/v1/payers/summary/")
    assert [(r["payer_code"], r["claim_count"], r["billed_total"]) for r in rows] == [("CIGNA", 1, "100.00")]
