"""/api/v1/claims/: list, submit, read, edit, withdraw, and move through the workflow."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from billing.api.base import AuditedTenantViewSet
from billing.api.filters import ClaimFilter
from billing.api.pagination import CappedPageNumberPagination
from billing.api.schema import LIST, READ, WRITE, errors
from billing.api.serializers import ClaimSerializer, ClaimTransitionSerializer, claim_rows_representation
from billing.models import Claim
from billing.selectors.claims import claim_list, claim_rows
from billing.services.claims import claim_delete, claim_submit, claim_transition, claim_update


@extend_schema_view(
    list=extend_schema(
        summary="List the claims of your customer",
        description="Numbered pages whose `count` is exact up to the server's cap (`count_capped` "
        "when more rows match; no page reaches past the cap): `/api/v2/claims/` pages by cursor "
        "instead.",
        responses={200: ClaimSerializer, **LIST},
    ),
    retrieve=extend_schema(summary="Read one claim", responses={200: ClaimSerializer, **READ}),
    create=extend_schema(
        summary="Submit a claim; it gets the next number of your customer",
        responses={201: ClaimSerializer, **errors(400, 401, 403, 429)},
    ),
    update=extend_schema(
        summary="Replace a submitted claim's fields", responses={200: ClaimSerializer, **WRITE}
    ),
    partial_update=extend_schema(summary="Edit a submitted claim", responses={200: ClaimSerializer, **WRITE}),
    destroy=extend_schema(summary="Withdraw a submitted claim", responses={204: None, **WRITE}),
)
class ClaimViewSet(
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    AuditedTenantViewSet,
):
    serializer_class = ClaimSerializer
    filterset_class = ClaimFilter
    pagination_class = CappedPageNumberPagination
    audit_object_type = "claim"

    def get_queryset(self) -> QuerySet[Claim]:
        # A list pages plain rows (`represent_page`); every other action reads a claim.
        if self.action == "list":
            return claim_rows(customer=self.customer)
        return claim_list(customer=self.customer)

    def represent_page(self, page: list[Any] | None) -> list[dict[str, Any]]:
        return claim_rows_representation(page or ())

    def perform_create(self, serializer: BaseSerializer) -> None:
        serializer.instance = claim_submit(
            actor=self.request.user, customer=self.customer, **serializer.validated_data
        )

    def perform_update(self, serializer: BaseSerializer) -> None:
        serializer.instance = claim_update(
            actor=self.request.user, claim=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance: Claim) -> None:
        claim_delete(actor=self.request.user, claim=instance)

    @extend_schema(
        summary="Move a claim through its workflow",
        description="submitted -> accepted -> paid | denied. Paying needs `paid_amount` (at most the billed "
        "amount); denying needs `denial_reason`.",
        request=ClaimTransitionSerializer,
        responses={200: ClaimSerializer, **WRITE},
    )
    @action(detail=True, methods=["post"], serializer_class=ClaimTransitionSerializer, filterset_class=None)
    def transition(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        claim = self.get_object()
        payload = ClaimTransitionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        claim = claim_transition(actor=request.user, claim=claim, **payload.validated_data)
        return Response(
            ClaimSerializer(claim, context=self.get_serializer_context()).data, status=status.HTTP_200_OK
        )
