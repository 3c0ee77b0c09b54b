"""The claim status workflow and its amount rules, free of any I/O.

    submitted -> accepted -> paid
                          -> denied

`paid` and `denied` are final. Paying needs an amount within what was billed;
denying needs a reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from billing.errors import ClaimLocked, DomainError, InvalidTransition
from billing.models import ClaimStatus

ALLOWED: dict[str, frozenset[str]] = {
    ClaimStatus.SUBMITTED: frozenset({ClaimStatus.ACCEPTED}),
    ClaimStatus.ACCEPTED: frozenset({ClaimStatus.PAID, ClaimStatus.DENIED}),
    ClaimStatus.PAID: frozenset(),
    ClaimStatus.DENIED: frozenset(),
}

# Only a claim the payer has not looked at yet may be edited or withdrawn.
EDITABLE = frozenset({ClaimStatus.SUBMITTED})


@dataclass(frozen=True)
class TransitionResult:
    status: str
    paid_amount: Decimal
    denial_reason: str


def plan_transition(
    *,
    current: str,
    target: str,
    billed_amount: Decimal,
    paid_amount: Decimal | None = None,
    denial_reason: str = "",
) -> TransitionResult:
    """The claim's new status and amounts, or the rule the request breaks."""
    if target not in ALLOWED:
        raise InvalidTransition(f"Unknown status {target!r}; use one of {sorted(ALLOWED)}.", field="status")
    if target not in ALLOWED[current]:
        allowed = sorted(ALLOWED[current])
        hint = f"from {current} it can move to {', '.join(allowed)}" if allowed else f"{current} is final"
        raise InvalidTransition(f"A claim cannot move from {current} to {target}: {hint}.", field="status")
    if target == ClaimStatus.PAID:
        if paid_amount is None:
            raise DomainError("Paying a claim needs paid_amount.", field="paid_amount")
        check_paid_amount(paid_amount=paid_amount, billed_amount=billed_amount)
        return TransitionResult(status=target, paid_amount=paid_amount, denial_reason="")
    if paid_amount is not None:
        raise DomainError(
            f"paid_amount is only accepted when paying; this moves to {target}.", field="paid_amount"
        )
    if target == ClaimStatus.DENIED:
        if not denial_reason.strip():
            raise DomainError("Denying a claim needs a denial_reason.", field="denial_reason")
        return TransitionResult(status=target, paid_amount=Decimal("0"), denial_reason=denial_reason.strip())
    if denial_reason:
        raise DomainError(
            f"denial_reason is only accepted when denying; this moves to {target}.", field="denial_reason"
        )
    return TransitionResult(status=target, paid_amount=Decimal("0"), denial_reason="")


def check_paid_amount(*, paid_amount: Decimal, billed_amount: Decimal) -> None:
    if paid_amount <= 0:
        raise DomainError("paid_amount must be greater than zero.", field="paid_amount")
    if paid_amount > billed_amount:
        raise DomainError(
            f"paid_amount {paid_amount} exceeds the billed amount {billed_amount}.", field="paid_amount"
        )


def check_editable(*, status: str, action: str) -> None:
    if status not in EDITABLE:
        raise ClaimLocked(
            f"A {status} claim cannot be {action}; only submitted claims can. "
            "Use the transition endpoint to change its status.",
        )
