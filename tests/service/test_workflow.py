"""The claim workflow's pure rules."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.errors import ClaimLocked, DomainError, InvalidTransition
from billing.workflow import check_editable, plan_transition

BILLED = Decimal("100.00")


@pytest.mark.parametrize(
    ("current", "target", "kwargs", "status", "paid"),
    [
        ("submitted", "accepted", {}, "accepted", Decimal("0")),
        ("accepted", "paid", {"paid_amount": Decimal("100.00")}, "paid", Decimal("100.00")),
        ("accepted", "paid", {"paid_amount": Decimal("0.01")}, "paid", Decimal("0.01")),
        ("accepted", "denied", {"denial_reason": " not covered "}, "denied", Decimal("0")),
    ],
)
def test_allowed_transitions(current, target, kwargs, status, paid):
    result = plan_transition(current=current, target=target, billed_amount=BILLED, **kwargs)
    assert (result.status, result.paid_amount) == (status, paid)


def test_a_denial_reason_is_trimmed():
    result = plan_transition(current="accepted", target="denied", billed_amount=BILLED, denial_reason=" x ")
    assert result.denial_reason == "x"


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("submitted", "paid"),
        ("submitted", "denied"),
        ("submitted", "submitted"),
        ("accepted", "submitted"),
        ("accepted", "accepted"),
        ("paid", "denied"),
        ("paid", "accepted"),
        ("denied", "paid"),
        ("submitted", "archived"),
    ],
)
def test_refused_transitions(current, target):
    with pytest.raises(InvalidTransition) as refused:
        plan_transition(current=current, target=target, billed_amount=BILLED, paid_amount=Decimal("1"))
    assert refused.value.field == "status"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"target": "paid"}, "paid_amount"),
        ({"target": "paid", "paid_amount": Decimal("0")}, "paid_amount"),
        ({"target": "paid", "paid_amount": Decimal("100.01")}, "paid_amount"),
        ({"target": "denied"}, "denial_reason"),
        ({"target": "denied", "denial_reason": "   "}, "denial_reason"),
        ({"target": "denied", "denial_reason": "x", "paid_amount": Decimal("1")}, "paid_amount"),
    ],
)
def test_paying_and_denying_need_their_details(kwargs, field):
    with pytest.raises(DomainError) as refused:
        plan_transition(current="accepted", billed_amount=BILLED, **kwargs)
    assert refused.value.field == field


def test_only_submitted_claims_are_editable():
    check_editable(status="submitted", action="edited")
    for status in ("accepted", "paid", "denied"):
        with pytest.raises(ClaimLocked, match=f"A {status} claim cannot be edited"):
            check_editable(status=status, action="edited")
