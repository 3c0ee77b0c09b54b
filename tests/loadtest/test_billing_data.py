import datetime as dt
import random
from decimal import Decimal

import pytest

from rollguard_loadtest.billing_data import (
    claim_filters,
    claim_payload,
    next_status,
    patient_filters,
    summary_period,
    transition_payload,
)

TODAY = dt.date(2026, 3, 15)
SEEDS = range(40)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_new_claim_holds_only_writable_fields_with_a_past_date_and_positive_amount(seed):
    payload = claim_payload(random.Random(seed), patient=7, payer=3, today=TODAY)
    assert set(payload) == {"patient", "payer", "service_date", "billed_amount"}
    assert TODAY - dt.timedelta(days=90) <= dt.date.fromisoformat(payload["service_date"]) <= TODAY
    assert Decimal("0.01") <= Decimal(payload["billed_amount"]) < Decimal("1000")
    assert Decimal(payload["billed_amount"]).as_tuple().exponent == -2


@pytest.mark.parametrize("seed", SEEDS)
def test_payment_stays_within_the_billed_amount_and_denial_gives_a_reason(seed):
    rng = random.Random(seed)
    paid = transition_payload(rng, target="paid", billed_amount="10.80")
    assert Decimal("0.01") <= Decimal(paid["paid_amount"]) <= Decimal("10.80")
    assert transition_payload(rng, target="denied", billed_amount="10.80")["denial_reason"]
    assert transition_payload(rng, target="accepted", billed_amount="10.80") == {"status": "accepted"}


@pytest.mark.parametrize(
    ("current", "allowed"),
    [("submitted", {"accepted"}), ("accepted", {"paid", "denied"}), ("paid", {None}), ("denied", {None})],
)
def test_claims_move_only_along_the_services_workflow(current, allowed):
    rng = random.Random(1)
    assert {next_status(rng, current) for _ in range(200)} == allowed


@pytest.mark.parametrize("seed", SEEDS)
def test_queue_filters_are_values_the_api_accepts(seed):
    params = claim_filters(random.Random(seed), payers=[1, 2], patients=[5], today=TODAY)
    assert params["status"] in {"submitted", "accepted", "paid", "denied"}
    assert 1 <= params["page_size"] <= 100
    assert params.get("payer", 1) in {1, 2}
    assert params.get("billed_min", 0) < params.get("billed_max", 1)
    assert params.get("service_date_after", "") <= params.get("service_date_before", "9999")
    patients = patient_filters(random.Random(seed))
    assert patients["ordering"] in {"last_name", "-created_at"}
    period = summary_period(random.Random(seed), today=TODAY)
    assert set(period) in (set(), {"service_date_after", "service_date_before"})
