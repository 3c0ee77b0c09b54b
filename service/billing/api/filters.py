"""The query parameters of every list. An invalid value is a 400, never ignored."""

from __future__ import annotations

import copy
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django_filters import rest_framework as filters
from django_filters.filters import Filter

from billing.models import (
    AuditAction,
    AuditEvent,
    AuditOutcome,
    Claim,
    ClaimStatus,
    Patient,
    Payer,
)

# Every object_type the audit trail records.
AUDITED_OBJECT_TYPES = ("patient", "claim", "audit_event", "payer_summary")
# Ids are positive bigints; an amount filter has the column's digits.
MAX_ID = 2**63 - 1
AMOUNT = {"max_digits": 12, "decimal_places": 2}


class IdFilter(filters.NumberFilter):
    """A whole, positive id that fits a bigint: `1.5` or `1e30` is a 400, never truncated or overflowed."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


def amount_filter(lookup_expr: str) -> filters.NumberFilter:
    return filters.NumberFilter(field_name="billed_amount", lookup_expr=lookup_expr, **AMOUNT)


class FilterSet(filters.FilterSet):
    """django-filter's FilterSet, with its form class built once per class and its
    filters copied shallowly.

    django-filter deep-copies every filter (choices, widgets and all) and builds
    a form class from the copies on every request, each copy making a new form
    field. The fields depend only on the class's declarations, and each form
    copies its class's fields anyway; a filter's only per-instance state is its
    `model` and `parent`, which a shallow copy gets of its own.
    """

    def __init__(
        self,
        data: Any = None,
        queryset: QuerySet[Any] | None = None,
        *,
        request: Any = None,
        prefix: str | None = None,
    ) -> None:
        if queryset is None:
            queryset = self._meta.model._default_manager.all()
        self.is_bound = data is not None
        self.data = data or QueryDict()
        self.queryset = queryset
        self.request = request
        self.form_prefix = prefix
        self.filters = {name: self._own_copy(declared) for name, declared in self.base_filters.items()}
        for filter_ in self.filters.values():
            filter_.model = queryset.model
            filter_.parent = self

    @staticmethod
    def _own_copy(declared: Filter) -> Filter:
        copied = copy.copy(declared)
        if declared.method is not None:
            # Rebinds the FilterMethod wrapper to the copy, whose parent is this filterset.
            copied.method = declared.method
        return copied

    def get_form_class(self) -> type[forms.Form]:
        cls = type(self)
        form_class: type[forms.Form] | None = cls.__dict__.get("_form_class")
        if form_class is None:
            form_class = super().get_form_class()
            form_class.base_fields = _SharedFields(form_class.base_fields)
            cls._form_class = form_class  # type: ignore[attr-defined]
        return form_class


class _SharedFields(dict[str, forms.Field]):
    """A form class's fields, which every form of it shares instead of deep-copying.

    Django copies a form's fields (widgets, validators, choices) for every form,
    so that one form may change its own before it renders. These forms only
    validate query parameters: nothing changes a field after the class is built,
    so each form gets the same field objects in a dict of its own.
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, forms.Field]:
        return dict(self)


class ClaimCursorFilter(FilterSet):
    """The filters of a claim list; its order is the cursor's (newest number first)."""

    status = filters.ChoiceFilter(choices=ClaimStatus.choices)
    payer = IdFilter(field_name="payer_id", help_text="Payer id.")
    patient = IdFilter(field_name="patient_id", help_text="Patient id.")
    service_date = filters.DateFromToRangeFilter(
        help_text="`service_date_after` and `service_date_before` bound the service date, inclusive."
    )
    billed_min = amount_filter("gte")
    billed_max = amount_filter("lte")
    search = filters.CharFilter(
        method="filter_search", help_text="A claim number, or the start of the patient's last name."
    )

    class Meta:
        model = Claim
        fields = ("status", "payer", "patient", "service_date", "billed_min", "billed_max")

    def filter_search(self, queryset: QuerySet[Claim], name: str, value: str) -> QuerySet[Claim]:
        value = value.strip()
        if value.isdigit() and len(value) <= 18:
            return queryset.filter(Q(number=int(value)) | Q(patient__last_name__istartswith=value))
        return queryset.filter(patient__last_name__istartswith=value)


class ClaimFilter(ClaimCursorFilter):
    """The v1 claim list: the same filters, and any of four orders (its pages are numbered)."""

    ordering = filters.OrderingFilter(
        fields=("number", "service_date", "billed_amount", "created_at"),
        help_text="Sort by number, service_date, billed_amount or created_at; prefix - for descending.",
    )

    class Meta(ClaimCursorFilter.Meta):
        pass


class PayerSummaryFilter(FilterSet):
    """No model: the summary's rows come from the rollup or, before it is complete, from the
    claims (`claim_payer_summary`); both tables have `payer_id` and `service_date`."""

    payer = IdFilter(field_name="payer_id", help_text="Payer id.")
    service_date = filters.DateFromToRangeFilter(
        help_text="Count only claims whose service date lies in this range, inclusive."
    )


class PatientFilter(FilterSet):
    last_name = filters.CharFilter(lookup_expr="istartswith")
    member_id = filters.CharFilter()
    date_of_birth = filters.DateFilter()
    ordering = filters.OrderingFilter(fields=("last_name", "date_of_birth", "created_at"))

    class Meta:
        model = Patient
        fields = ("last_name", "member_id", "date_of_birth")


class PayerFilter(FilterSet):
    code = filters.CharFilter()
    name = filters.CharFilter(lookup_expr="icontains")
    is_active = filters.BooleanFilter()

    class Meta:
        model = Payer
        fields = ("code", "name", "is_active")


class ActivePayerFilter(FilterSet):
    code = filters.CharFilter()
    name = filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Payer
        fields = ("code", "name")


class AuditEventFilter(FilterSet):
    action = filters.ChoiceFilter(choices=AuditAction.choices)
    outcome = filters.ChoiceFilter(choices=AuditOutcome.choices)
    object_type = filters.ChoiceFilter(choices=[(name, name) for name in AUDITED_OBJECT_TYPES])
    object_id = filters.CharFilter()
    occurred = filters.IsoDateTimeFromToRangeFilter(
        field_name="occurred_at", help_text="`occurred_after` and `occurred_before`, ISO 8601."
    )

    class Meta:
        model = AuditEvent
        fields = ("action", "outcome", "object_type", "object_id", "occurred")
