"""A claim list renders its rows from plain values: exactly what ClaimSerializer renders for each claim."""

from __future__ import annotations

import json

import pytest
from rest_framework.renderers import JSONRenderer

from billing.api.serializers import ClaimSerializer
from billing.models import Claim

pytestmark = pytest.mark.integration


def _serialized(claim_id: int) -> dict:
    data = ClaimSerializer(Claim.objects.select_related("patient", "payer").get(pk=claim_id)).data
    return json.loads(JSONRenderer().render(data))


@pytest.mark.parametrize("url", ["/api/v1/claims/", "/api/v2/claims/"])
def test_every_listed_claim_reads_as_its_serializer_renders_it(world, new_claim, url):
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
    for row in rows:
        assert row == _serialized(row["id"])
