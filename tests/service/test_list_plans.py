"""Every claim list filter and order is served by an index at 100,000 claims: no sequential scan.

PostgreSQL's own EXPLAIN of the page query each list runs, on a tenant large
enough that a scan of every claim would cost what the indexes exist to avoid.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import QuerySet

from billing.api.filters import ClaimCursorFilter, ClaimFilter
from billing.demo import seed_claims, seed_patients
from billing.models import Claim, Payer
from billing.selectors.claims import claim_list

pytestmark = pytest.mark.integration

CLAIMS = 100_000
TODAY = dt.date.today()
WINDOW = {"service_date_after": str(TODAY - dt.timedelta(days=90)), "service_date_before": str(TODAY)}


@pytest.fixture
def large_tenant(acme, globex):
    """Acme with 100,000 claims, Globex with 2,000: (customer, a payer id, a patient id)."""
    payers = [Payer.objects.create(code=f"X{i}", name=f"Payer {i}") for i in range(7)]
    for member, count in ((acme, CLAIMS), (globex, 2_000)):
        seed_claims(
            member.customer,
            count=count,
            patients=seed_patients(member.customer, count=500),
            payers=[p.pk for p in payers],
        )
    patient = Claim.objects.filter(customer=acme.customer).values_list("patient_id", flat=True)[0]
    return acme.customer, payers[2].pk, patient


FILTERS = [
    {},
    {"status": "denied"},
    {"payer": "PAYER"},
    {"patient": "PATIENT"},
    WINDOW,
    {"billed_min": "4000"},
    {"billed_max": "30"},
    {"search": "12345"},
    {"search": "Lop"},
    {"status": "paid", "payer": "PAYER", **WINDOW},
]
V1_ORDERS = ["", "number", "-service_date", "billed_amount", "-created_at"]


def _plan(queryset: QuerySet[Claim]) -> str:
    return queryset.explain()


def _params(raw: dict[str, str], payer: int, patient: int) -> dict[str, str]:
    names = {"PAYER": str(payer), "PATIENT": str(patient)}
    return {key: names.get(value, value) for key, value in raw.items()}


def _scans(filterset: type, data: dict[str, str], queryset: QuerySet[Claim], *, cursor: bool) -> str | None:
    filtered = filterset(data=data, queryset=queryset)
    assert filtered.is_valid(), filtered.errors
    page = filtered.qs.order_by("-number")[:26] if cursor else filtered.qs[:25]
    plan = _plan(page)
    return plan if "Seq Scan on billing_claim" in plan else None


def test_no_list_filter_or_order_scans_every_claim(large_tenant):
    # One test for every combination: the 100,000 claims are seeded once.
    customer, payer, patient = large_tenant
    scans = {}
    for raw in FILTERS:
        data = _params(raw, payer, patient)
        label = "&".join(raw) or "no filter"
        plan = _scans(ClaimCursorFilter, data, claim_list(customer=customer), cursor=True)
        if plan:
            scans[f"v2 {label}"] = plan
        for order in V1_ORDERS:
            ordered = {**data, **({"ordering": order} if order else {})}
            plan = _scans(ClaimFilter, ordered, claim_list(customer=customer), cursor=False)
            if plan:
                scans[f"v1 {label} ordering={order}"] = plan
    assert scans == {}
