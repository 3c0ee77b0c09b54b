"""Lists render their rows from plain values: exactly what their serializers render for each row."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from billing.api.serializers import ClaimSerializer
from billing.models import Claim

pytestmark = pytest.mark.integration


def _serialized(claim_id: int) -> dict:
    data = ClaimSerializer(Claim.objects.select_related("patient", "payer").get(pk=claim_id)).data
    return json.loads(JSONRenderer().render(data))


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata"])
@pytest.mark.parametrize("url", ["/api/v1/claims/", "/api/v2/claims/"])
def test_every_listed_claim_reads_as_its_serializer_renders_it(world, new_claim, url, zone):
    """Times render in the current time zone, as DRF renders them."""
    with timezone.override(zone):
        rows = _listed_claims(world, new_claim, url)
        for row in rows:
            assert row == _serialized(row["id"])
    assert all(row["created_at"].endswith("Z" if zone == "UTC" else "+05:30") for row in rows)


def _listed_claims(world, new_claim, url) -> list[dict]:
    client = world.acme.client
    paid = new_claim(world.acme, world.acme_patient, world.payers[1], billed="1234.50")
    denied = new_claim(world.acme, world.acme_patient, world.payers[0], billed="0.01")
    for claim in (paid, denied):
        client.post(f"/api/v1/claims/{claim.pk}/transition/", {"status": "accepted"}, format="json")
    client.post(
        f"/api/v1/claims/{paid.pk}/transition/", {"status": "paid", "paid_amount": "1000"}, format="json"
    )
    client.post(
        f"/api/v1/claims/{denied.pk}/transition/",
        {"status": "denied", "denial_reason": "Not covered \u2014 see plan"},
        format="json",
    )
    rows = client.get(url).json()["results"]
    assert sorted(row["status"] for row in rows) == ["denied", "paid", "submitted"]
    return rows


def test_the_payer_summary_reads_as_its_serializer_renders_it(world, new_claim):
    from billing.api.serializers import PayerSummarySerializer
    from billing.selectors.claims import claim_payer_summary

    new_claim(world.acme, world.acme_patient, world.payers[1], billed="1234.50")
    new_claim(world.acme, world.acme_patient, world.payers[1], billed="0.01")
    rows = world.acme.client.get("/api/v1/payers/summary/").json()["results"]
    expected = PayerSummarySerializer(claim_payer_summary(customer=world.acme.customer), many=True).data
    assert [row["claim_count"] for row in rows] == [1, 2]
    assert rows == json.loads(JSONRenderer().render(expected))
