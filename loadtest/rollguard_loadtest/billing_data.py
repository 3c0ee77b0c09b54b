"""Realistic request data for the simulated billing staff: priced visits, payments, denials, filters."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

# Common outpatient CPT codes with typical billed amounts (USD), so amounts match procedures.
PROCEDURES: tuple[tuple[str, Decimal], ...] = (
    ("99213", Decimal("125.00")),  # office visit, established patient
    ("99214", Decimal("185.00")),
    ("99203", Decimal("170.00")),  # office visit, new patient
    ("93000", Decimal("60.00")),  # electrocardiogram
    ("80053", Decimal("48.00")),  # comprehensive metabolic panel
    ("85025", Decimal("32.00")),  # complete blood count
    ("71046", Decimal("95.00")),  # chest x-ray, two views
    ("97110", Decimal("70.00")),  # therapeutic exercise
    ("20610", Decimal("210.00")),  # joint injection
    ("36415", Decimal("12.00")),  # venipuncture
)
# Denial reasons as remittance advice words them (CARC 16, 29, 50, 197, 18).
DENIAL_REASONS = (
    "Claim lacks information needed for adjudication",
    "The time limit for filing has expired",
    "Not deemed a medical necessity by the payer",
    "Precertification or authorization absent",
    "Exact duplicate claim",
)
SURNAME_PREFIXES = ("A", "Ba", "Cl", "D", "Ev", "F", "Gr", "H", "I", "Jo", "K", "Lo", "Mar", "Ng", "S")
CLAIM_STATUSES = ("submitted", "accepted", "paid", "denied")
ORDERINGS = ("-service_date", "service_date", "-billed_amount", "billed_amount", "-created_at")
# submitted -> accepted -> paid | denied, as the service's workflow allows; most accepted claims get paid.
NEXT_STATUS: dict[str, tuple[tuple[str, int], ...]] = {
    "submitted": (("accepted", 1),),
    "accepted": (("paid", 8), ("denied", 2)),
}


def claim_payload(rng: random.Random, *, patient: Any, payer: Any, today: dt.date) -> dict[str, Any]:
    """A new claim for one visit in the last 90 days, priced near a common procedure's usual charge."""
    _, price = rng.choice(PROCEDURES)
    units = rng.choices((1, 2, 3), weights=(85, 10, 5))[0]
    jitter = Decimal(rng.randint(90, 115)) / 100
    return {
        "patient": patient,
        "payer": payer,
        "service_date": (today - dt.timedelta(days=rng.randint(0, 90))).isoformat(),
        "billed_amount": str((price * units * jitter).quantize(Decimal("0.01"))),
    }


def claim_filters(
    rng: random.Random, *, payers: list[Any], patients: list[Any], today: dt.date
) -> dict[str, Any]:
    """A claims work queue's query: a status, often a payer or a date window, sometimes amounts."""
    params: dict[str, Any] = {"status": rng.choice(CLAIM_STATUSES), "ordering": rng.choice(ORDERINGS)}
    params["page_size"] = rng.choice((10, 25, 50))
    if payers and rng.random() < 0.5:
        params["payer"] = rng.choice(payers)
    if patients and rng.random() < 0.2:
        params["patient"] = rng.choice(patients)
    if rng.random() < 0.4:
        start = today - dt.timedelta(days=rng.choice((7, 30, 90)))
        params["service_date_after"] = start.isoformat()
        params["service_date_before"] = today.isoformat()
    if rng.random() < 0.2:
        params["billed_min"] = rng.choice((50, 100, 150))
        params["billed_max"] = params["billed_min"] + rng.choice((100, 500))
    return params


def transition_payload(rng: random.Random, *, target: str, billed_amount: str) -> dict[str, Any]:
    """The body that moves a claim to `target`: payers pay 60-100% of the billed amount, or give a reason."""
    body: dict[str, Any] = {"status": target}
    if target == "paid":
        share = Decimal(rng.randint(60, 100)) / 100
        body["paid_amount"] = str((Decimal(billed_amount) * share).quantize(Decimal("0.01")))
    elif target == "denied":
        body["denial_reason"] = rng.choice(DENIAL_REASONS)
    return body


def patient_filters(rng: random.Random) -> dict[str, Any]:
    """A patient look-up: by the start of a last name at the front desk, else the newest registrations."""
    if rng.random() < 0.6:
        return {"last_name": rng.choice(SURNAME_PREFIXES), "ordering": "last_name", "page_size": 25}
    return {"ordering": "-created_at", "page_size": 25}


def summary_period(rng: random.Random, *, today: dt.date) -> dict[str, Any]:
    """A payer report's period: all time, or the last month, quarter or year."""
    days = rng.choice((None, 30, 90, 365))
    if days is None:
        return {}
    return {
        "service_date_after": (today - dt.timedelta(days=days)).isoformat(),
        "service_date_before": today.isoformat(),
    }


def next_status(rng: random.Random, current: str) -> str | None:
    """Where a claim in `current` moves next, or None when it is settled."""
    choices = NEXT_STATUS.get(current)
    if not choices:
        return None
    statuses, weights = zip(*choices, strict=True)
    return rng.choices(statuses, weights=weights)[0]
