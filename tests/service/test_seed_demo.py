"""`manage.py seed_demo`: idempotent demo data and a fresh token per tenant."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from billing.models import Claim, Customer, Patient, Payer

pytestmark = pytest.mark.integration


def _seed(*args: str) -> dict:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return json.loads(out.getvalue())


def test_seed_is_idempotent_and_issues_fresh_tokens(db):
    first = _seed("--claims", "300", "--patients", "20")
    counts = (Customer.objects.count(), Patient.objects.count(), Claim.objects.count(), Payer.objects.count())
    second = _seed("--claims", "300", "--patients", "20")
    assert counts == (2, 40, 600, 8)
    assert (
        Customer.objects.count(),
        Patient.objects.count(),
        Claim.objects.count(),
        Payer.objects.count(),
    ) == counts
    assert [t["name"] for t in first["tenants"]] == ["Acme Health", "Globex Clinic"]
    assert [t["token"] for t in first["tenants"]] != [t["token"] for t in second["tenants"]]


def test_seeded_claims_are_valid_and_numbered(db):
    tenants = _seed("--claims", "250", "--patients", "5")["tenants"]
    acme = Customer.objects.get(name="Acme Health")
    numbers = list(Claim.objects.filter(customer=acme).order_by("number").values_list("number", flat=True))
    assert numbers == list(range(1, 251))
    assert acme.last_claim_number == 250
    assert set(Claim.objects.values_list("status", flat=True)) == {"submitted", "accepted", "paid", "denied"}
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {tenants[0]['token']}")
    listed = client.get("/api/v1/claims/?page_size=100").json()
    assert listed["count"] == 250
    summary = client.get("/api/v1/payers/summary/").json()["results"]
    assert sum(row["claim_count"] for row in summary) == 250


def test_topping_up_continues_the_numbers(db):
    _seed("--claims", "10", "--patients", "3")
    _seed("--claims", "15", "--patients", "3")
    acme = Customer.objects.get(name="Acme Health")
    assert sorted(Claim.objects.filter(customer=acme).values_list("number", flat=True)) == list(range(1, 16))


def test_nonsense_counts_are_refused(db):
    with pytest.raises(CommandError, match="--patients must be at least 1"):
        _seed("--patients", "0")
