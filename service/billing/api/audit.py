"""/api/v1/audit-events/: the customer's audit trail, for its administrators."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.permissions import IsAuthenticated

from billing.api.base import AuditedTenantViewSet
from billing.api.filters import AuditEventFilter
from billing.api.pagination import CappedPageNumberPagination
from billing.api.permissions import IsTenantAdmin, IsTenantMember
from billing.api.schema import LIST, READ
from billing.api.serializers import AuditEventSerializer
from billing.models import AuditEvent
from billing.selectors.audit import audit_event_list


@extend_schema_view(
    list=extend_schema(
        summary="List your customer's audit events",
        description="Numbered pages whose `count` is exact up to the server's cap (`count_capped` "
        "when more rows match; no page reaches past the cap): `/api/v2/audit-events/` pages by cursor "
        "instead.",
        responses={200: AuditEventSerializer, **LIST},
    ),
    retrieve=extend_schema(summary="Read one audit event", responses={200: AuditEventSerializer, **READ}),
)
class AuditEventViewSet(AuditedTenantViewSet):
    """Reading the trail is itself recorded: a `list` row per page, a `read` row per event."""

    permission_classes = [IsAuthenticated, IsTenantMember, IsTenantAdmin]
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter
    pagination_class = CappedPageNumberPagination
    audit_object_type = "audit_event"

    def get_queryset(self) -> QuerySet[AuditEvent]:
        return audit_event_list(customer=self.customer)
