"""Request and response shapes. Writes accept only their writable fields: a
tenant, owner, number or status in a body is refused, never silently used."""

from __future__ import annotations

import copy
import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from billing.models import AuditEvent, Claim, ClaimStatus, Patient, Payer
from billing.selectors.rows import row_by_id, rows_by_id

AMOUNT = {"max_digits": 12, "decimal_places": 2}
# A sum of up to 2**63 amounts below 10**10: room for every total the database can return.
TOTAL = {"max_digits": 32, "decimal_places": 2}


class StrictFieldsMixin:
    """Refuse keys that are not writable fields of this serializer."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}  # type: ignore[attr-defined]
            refused = sorted(set(data) - writable)
            if refused:
                raise serializers.ValidationError(
                    {
                        name: [f"Not accepted here; writable fields are: {', '.join(sorted(writable))}."]
                        for name in refused
                    }
                )
        return super().to_internal_value(data)  # type: ignore[misc]


def whole_id(data: Any) -> int | None:
    """`data` as an id: a whole number that fits a bigint, given as a JSON number or digits."""
    is_int = isinstance(data, int) and not isinstance(data, bool)
    is_digits = isinstance(data, str) and data.isascii() and data.isdigit() and len(data) < 20
    return int(data) if (is_int or is_digits) and 1 <= int(data) < 2**63 else None


class IdField(serializers.PrimaryKeyRelatedField):
    """A related id as a whole number that fits a bigint: `1.5` is refused, never truncated to 1.

    The row is looked up by `row_by_id` among the rows of the queryset's model whose fields
    equal `row_filter`; None (the default for a tenant's rows until the serializer
    knows the tenant) matches no row at all. A parent with `IdsInOneLookupMixin` may have
    looked it up already, with the body's other ids.
    """

    def __init__(self, *, row_filter: dict[str, object] | None = None, **kwargs: Any) -> None:
        self.row_filter = row_filter
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        pk = whole_id(data)
        if pk is None:
            self.fail("incorrect_type", data_type=type(data).__name__)
        looked_up: dict[tuple[str, int], Any] = getattr(self.parent, "looked_up", {})
        if (self.field_name, pk) in looked_up:
            row = looked_up[self.field_name, pk]
        else:
            row = None if self.row_filter is None else row_by_id(self.queryset.model, pk, **self.row_filter)
        if row is None:
            self.fail("does_not_exist", pk_value=pk)
        return row


class IdsInOneLookupMixin:
    """A body's related ids (`IdField`s) looked up in one statement before the fields validate,
    instead of one statement per field; each field still reports its own errors."""

    looked_up: dict[tuple[str, int], Any]

    def to_internal_value(self, data: Any) -> Any:
        self.looked_up = {}
        if isinstance(data, dict):
            wanted = [
                (name, field, pk)
                for name, field in self.fields.items()  # type: ignore[attr-defined]
                if isinstance(field, IdField)
                and not field.read_only
                and field.row_filter is not None
                and (pk := whole_id(data.get(name))) is not None
            ]
            if len(wanted) > 1:
                rows = rows_by_id(*((field.queryset.model, pk, field.row_filter) for _, field, pk in wanted))
                self.looked_up = {(name, pk): row for (name, _, pk), row in zip(wanted, rows, strict=True)}
        return super().to_internal_value(data)  # type: ignore[misc]


def _not_in_future(value: datetime.date) -> datetime.date:
    if value > timezone.localdate():
        raise serializers.ValidationError("Must not be in the future.")
    return value


class PatientSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    date_of_birth = serializers.DateField(validators=[_not_in_future])

    class Meta:
        model = Patient
        fields = ("id", "first_name", "last_name", "date_of_birth", "member_id", "created_at", "updated_at")
        read_only_fields = ("id", "created_at", "updated_at")


class PayerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payer
        fields = ("id", "code", "name", "is_active")
        read_only_fields = fields


class PayerSummarySerializer(serializers.Serializer):
    payer = serializers.IntegerField(source="payer_id")
    payer_code = serializers.CharField()
    payer_name = serializers.CharField()
    claim_count = serializers.IntegerField()
    denied_count = serializers.IntegerField()
    billed_total = serializers.DecimalField(**TOTAL)
    paid_total = serializers.DecimalField(**TOTAL)
    denial_rate = serializers.FloatField(help_text="Denied claims as a share of all claims, 0 to 1.")


def payer_summary_representation(row: dict[str, Any]) -> dict[str, Any]:
    """What PayerSummarySerializer renders for one row of `claim_payer_summary` (tests hold the two equal).

    Totals are sums of numeric(16, 2) columns, at two places already.
    """
    return {
        "payer": row["payer_id"],
        "payer_code": row["payer_code"],
        "payer_name": row["payer_name"],
        "claim_count": int(row["claim_count"]),
        "denied_count": int(row["denied_count"]),
        "billed_total": format(row["billed_total"], "f"),
        "paid_total": format(row["paid_total"], "f"),
        "denial_rate": float(row["denial_rate"]),
    }


class ModelFieldsOnceMixin:
    """A ModelSerializer whose fields are worked out from the model once per class, then copied
    for each instance (as DRF copies declared fields), instead of rebuilt on every request."""

    def get_fields(self) -> dict[str, serializers.Field]:
        cls = type(self)
        template: dict[str, serializers.Field] | None = cls.__dict__.get("_fields_template")
        if template is None:
            template = super().get_fields()  # type: ignore[misc]
            cls._fields_template = template  # type: ignore[attr-defined]
        return copy.deepcopy(template)


class ClaimSerializer(
    StrictFieldsMixin, IdsInOneLookupMixin, ModelFieldsOnceMixin, serializers.ModelSerializer
):
    patient = IdField(queryset=Patient.objects.none())
    payer = IdField(queryset=Payer.objects.all(), row_filter={})
    patient_name = serializers.SerializerMethodField()
    payer_name = serializers.CharField(source="payer.name", read_only=True)
    billed_amount = serializers.DecimalField(**AMOUNT, min_value=Decimal("0.01"))
    service_date = serializers.DateField(validators=[_not_in_future])
    # The API name outlived the column's rename (migrations 0003-0005).
    denial_reason = serializers.CharField(source="denial_reason_text", read_only=True)

    class Meta:
        model = Claim
        fields = (
            "id",
            "number",
            "patient",
            "patient_name",
            "payer",
            "payer_name",
            "billed_amount",
            "paid_amount",
            "service_date",
            "status",
            "denial_reason",
            "created_at",
            "updated_at",
        )
        read_only_fields = (
            "id",
            "number",
            "paid_amount",
            "status",
            "created_at",
            "updated_at",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        customer = self.context.get("customer")
        if customer is not None:
            # A patient id of another tenant reads as one that does not exist.
            self.fields["patient"].row_filter = {"customer_id": customer.pk}

    def get_patient_name(self, claim: Claim) -> str:
        return f"{claim.patient.first_name} {claim.patient.last_name}"


def _time(value: datetime.datetime, zone: datetime.tzinfo) -> str:
    """DRF's DateTimeField rendering: ISO 8601 in the current time zone (`zone`), UTC as `Z`."""
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def claim_rows_representation(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """What ClaimSerializer renders for each claim of a page of `billing.selectors.claims.claim_rows`.

    A list page renders up to 100 claims; building them from plain rows costs a
    fraction of a ModelSerializer's field walk per row (tests hold the two equal).
    The current time zone is looked up once per page, not twice per claim.
    """
    zone = timezone.get_current_timezone()
    return [claim_row_representation(row, zone) for row in rows]


def claim_row_representation(row: dict[str, Any], zone: datetime.tzinfo) -> dict[str, Any]:
    """One claim of `claim_rows_representation`, its times rendered in `zone`."""
    # Amounts come from numeric(12, 2) columns: already at two places, so `f` is DecimalField's string.
    return {
        "id": row["id"],
        "number": row["number"],
        "patient": row["patient_id"],
        "patient_name": f"{row['patient__first_name']} {row['patient__last_name']}",
        "payer": row["payer_id"],
        "payer_name": row["payer__name"],
        "billed_amount": format(row["billed_amount"], "f"),
        "paid_amount": format(row["paid_amount"], "f"),
        "service_date": row["service_date"].isoformat(),
        "status": row["status"],
        "denial_reason": row["denial_reason_text"],
        "created_at": _time(row["created_at"], zone),
        "updated_at": _time(row["updated_at"], zone),
    }


class ClaimTransitionSerializer(StrictFieldsMixin, serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[ClaimStatus.ACCEPTED, ClaimStatus.PAID, ClaimStatus.DENIED],
        help_text="submitted -> accepted -> paid | denied.",
    )
    paid_amount = serializers.DecimalField(
        **AMOUNT, required=False, min_value=Decimal("0.01"), help_text="Required when status is paid."
    )
    denial_reason = serializers.CharField(
        required=False, allow_blank=False, max_length=500, help_text="Required when status is denied."
    )


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", read_only=True)

    class Meta:
        model = AuditEvent
        fields = ("id", "occurred_at", "actor", "action", "object_type", "object_id", "outcome", "request_id")
        read_only_fields = fields


class LoginSerializer(StrictFieldsMixin, serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, style={"input_type": "password"}, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    expiry = serializers.DateTimeField(allow_null=True)


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong and what to do about it.")
    code = serializers.CharField(help_text="A stable machine-readable name for the error.")


class ValidationErrorSerializer(ErrorSerializer):
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages for each invalid field (or query parameter).",
    )
