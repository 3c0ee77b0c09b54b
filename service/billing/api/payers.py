"""/api/v1/payers/: the shared payer directory, plus your customer's per-payer summary."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import QuerySet
from django_filters import utils as filter_utils
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from billing.api.base import TenantViewSet
from billing.api.filters import ActivePayerFilter, PayerFilter, PayerSummaryFilter
from billing.api.schema import LIST, READ
from billing.api.serializers import PayerSerializer, PayerSummarySerializer, payer_summary_representation
from billing.models import AuditAction, ClaimRollup
from billing.selectors.claims import claim_payer_summary, payer_summary_reads_rollup, rollup_payer_summary
from billing.selectors.compiled import ShapeCompiled, Values, flat_values, nested_values
from billing.selectors.payers import payer_active_list, payer_list

#: The audit trail's name for reads of the per-payer summary (billing data of one tenant).
SUMMARY_OBJECT_TYPE = "payer_summary"


def _summary_query(values: Values) -> QuerySet[Any]:
    """The rollup's summary of `values["customer"]`, filtered by the rest as PayerSummaryFilter filters."""
    rest = dict(values)
    customer_id = rest.pop("customer")
    filterset = PayerSummaryFilter(queryset=rollup_payer_summary(customer_id=customer_id))
    filterset.form.cleaned_data = nested_values(rest)
    return filterset.filter_queryset(filterset.queryset)


_SUMMARY = ShapeCompiled(
    _summary_query,
    kinds={
        "customer": int,
        "payer": int,
        "service_date.start": datetime.date,
        "service_date.stop": datetime.date,
    },
)


@extend_schema_view(
    list=extend_schema(summary="List all payers", responses={200: PayerSerializer, **LIST}),
    retrieve=extend_schema(summary="Read one payer", responses={200: PayerSerializer, **READ}),
)
class PayerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Payers are reference data shared by every customer, so any member may read
    them all; `summary` aggregates only the caller's own claims."""

    serializer_class = PayerSerializer
    filterset_class = PayerFilter

    def get_queryset(self) -> QuerySet[Any]:
        if self.action == "payer_summary":
            return claim_payer_summary(customer=self.customer)
        if self.action == "active":
            return payer_active_list()
        return payer_list()

    @extend_schema(
        summary="Claim counts, amounts and denial rate per payer, for your customer",
        responses={200: PayerSummarySerializer(many=True), **LIST},
    )
    @action(
        detail=False,
        methods=["get"],
        url_path="summary",
        serializer_class=PayerSummarySerializer,
        filterset_class=PayerSummaryFilter,
    )
    def payer_summary(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # One row per payer, so the grouped query runs once and is paged in
        # memory, rather than aggregating every claim twice (count, then page).
        rows: list[Any]
        if payer_summary_reads_rollup():
            rows = self._summary_rows()
        else:
            rows = list(self.filter_queryset(self.get_queryset()))
        page = self.paginate_queryset(rows)
        self._audit(AuditAction.LIST, object_type=SUMMARY_OBJECT_TYPE)
        return self.get_paginated_response([payer_summary_representation(row) for row in page or ()])

    def _summary_rows(self) -> list[dict[str, Any]]:
        """The summary's rows by its SQL compiled once per filter shape, after the filters' own
        validation (a bad value is the same 400 as through the filter backend)."""
        # As DjangoFilterBackend builds it; the queryset only names the model, it never runs.
        filterset = PayerSummaryFilter(
            data=self.request.query_params, queryset=ClaimRollup.objects.all(), request=self.request
        )
        if not filterset.is_valid():
            raise filter_utils.translate_validation(filterset.errors)
        return _SUMMARY.rows({"customer": self.customer.pk, **flat_values(filterset.form.cleaned_data)})

    @extend_schema(
        summary="Payers that currently accept claims",
        responses={200: PayerSerializer(many=True), **LIST},
    )
    @action(detail=False, methods=["get"], filterset_class=ActivePayerFilter)
    def active(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._paginated_list()

    def _paginated_list(self) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
