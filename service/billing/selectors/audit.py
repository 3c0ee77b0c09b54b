"""Reads of the audit trail, scoped to one tenant."""

from __future__ import annotations

from django.db.models import QuerySet

from billing.models import AuditEvent, Customer


def audit_event_list(*, customer: Customer) -> QuerySet[AuditEvent]:
    return (
        AuditEvent.objects.filter(customer=customer).select_related("actor").order_by("-occurred_at", "-id")
    )
