"""The audit trail's events. Callers write them (`billing.services.inserts.insert`) inside the
transaction of the access they record."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from billing.models import AuditAction, AuditEvent, AuditOutcome
from config.request_context import current_request_id


def audit_event(
    *,
    actor: AbstractBaseUser,
    customer_id: int,
    action: AuditAction,
    object_type: str,
    object_id: object = "",
    outcome: AuditOutcome = AuditOutcome.SUCCESS,
) -> AuditEvent:
    """The event of one access by `actor`, in the current request, not yet written."""
    return AuditEvent(
        actor=actor,
        customer_id=customer_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        outcome=outcome,
        request_id=current_request_id.get(),
    )
