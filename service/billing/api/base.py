"""The tenant-scoped viewset every tenant resource builds on.

Its queryset comes from a selector scoped to the caller's customer, so an id of
another tenant is a 404; that miss, like a refused permission, is written to the
audit trail of the caller's tenant. A miss reads the same whether the id exists
in another tenant or nowhere, so the trail reveals nothing of other tenants.
Each request runs in one transaction, the one whose tenant setting the
authentication query set for row-level security.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import Http404
from rest_framework import exceptions, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from billing.api.permissions import CanWriteOrReadOnly, IsTenantMember, membership_of, tenant_of
from billing.models import AuditAction, AuditOutcome, Customer
from billing.services.audit import audit_event
from billing.services.inserts import insert

# Ids are bigints: anything longer cannot name a row and must not reach the database.
ID_PATTERN = r"[0-9]{1,18}"


class TenantViewSet(viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated, IsTenantMember, CanWriteOrReadOnly]
    lookup_value_regex = ID_PATTERN
    #: The audit trail's name for this resource; None leaves its reads unaudited.
    audit_object_type: str | None = None

    @property
    def customer(self) -> Customer:
        if getattr(self, "swagger_fake_view", False):
            # Schema generation builds querysets to learn the model, with no caller.
            return Customer(pk=0)
        return tenant_of(self.request)

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        # No savepoint: outermost it is the request's transaction, and inside a
        # test's transaction it costs no statements.
        with transaction.atomic(savepoint=False):
            return super().dispatch(request, *args, **kwargs)

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if membership_of(self.request) is not None:
            context["customer"] = self.customer
        return context

    def handle_exception(self, exc: Exception) -> Response:
        # Here, after the services' savepoints have unwound, so the row survives
        # the rollback of the access it refused.
        outcome = self._refusal(exc)
        if outcome is not None:
            self._audit(AuditAction.DENIED, object_id=self._lookup_value(), outcome=outcome)
        return super().handle_exception(exc)

    def _refusal(self, exc: Exception) -> AuditOutcome | None:
        """The audit outcome of a refused access, or None when `exc` refuses none."""
        # The type first: other errors (a bad Accept header) come before authentication.
        if not isinstance(exc, exceptions.PermissionDenied | Http404):
            return None
        if not self.audit_object_type:
            return None
        try:
            member = membership_of(self.request)
        except exceptions.APIException:
            # Refused before authentication ran (an unknown format suffix is a 404 first):
            # a caller whose credentials fail is nobody the trail can name.
            return None
        if member is None:
            return None
        return AuditOutcome.DENIED if isinstance(exc, exceptions.PermissionDenied) else AuditOutcome.NOT_FOUND

    def _lookup_value(self) -> str:
        return str(self.kwargs.get(self.lookup_url_kwarg or self.lookup_field, ""))

    def _audit(
        self,
        action: AuditAction,
        *,
        object_id: object = "",
        outcome: AuditOutcome = AuditOutcome.SUCCESS,
        object_type: str | None = None,
    ) -> None:
        object_type = object_type or self.audit_object_type
        assert object_type, f"{type(self).__name__} audits nothing; set audit_object_type"
        insert(
            audit_event(
                actor=self.request.user,
                customer_id=self.customer.pk,
                action=action,
                object_type=object_type,
                object_id=object_id,
                outcome=outcome,
            )
        )


class AuditedTenantViewSet(TenantViewSet):
    """A tenant resource holding PHI or billing data: detail reads write a
    `read` row in the read's transaction; each list request writes one `list`
    row (which rows it showed follows from the query and the time)."""

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        self._audit(AuditAction.READ, object_id=instance.pk)
        return Response(self.get_serializer(instance).data)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        data = self.represent_page(page)
        self._audit(AuditAction.LIST)
        return self.get_paginated_response(data)

    def represent_page(self, page: list[Any] | None) -> Any:
        """The page's rows as the response renders them: `serializer_class`'s unless a subclass
        that pages plain rows (its `get_queryset` for `list`) renders them itself."""
        return self.get_serializer(page, many=True).data
