"""Reads of claims, always scoped to one tenant before anything else."""

from __future__ import annotations

import functools
from typing import Any

from django.db import connection
from django.db.models import Count, F, FloatField, Q, QuerySet, Sum
from django.db.models.functions import Cast

from billing.models import Claim, ClaimRollup, ClaimStatus, Customer


def claim_list(*, customer: Customer) -> QuerySet[Claim]:
    # The list and detail views render the patient's name and the payer's.
    return Claim.objects.filter(customer=customer).select_related("patient", "payer").order_by("-number")


#: The columns a claim list renders (`billing.api.serializers.claim_rows_representation`).
CLAIM_ROW_FIELDS = (
    "id",
    "number",
    "patient_id",
    "patient__first_name",
    "patient__last_name",
    "payer_id",
    "payer__name",
    "billed_amount",
    "paid_amount",
    "service_date",
    "status",
    "denial_reason_text",
    "created_at",
    "updated_at",
)


@functools.cache
def _claim_rows() -> QuerySet[Claim, dict[str, Any]]:
    """Every tenant's claims as listed rows, newest number first: built once per process (the
    joins and columns of `.values()`), then narrowed per request. Never evaluated."""
    return Claim.objects.values(*CLAIM_ROW_FIELDS).order_by("-number")


def claim_rows(*, customer: Customer) -> QuerySet[Claim, dict[str, Any]]:
    """`claim_list` as plain rows of the listed columns, patient and payer joined: a page of
    dicts instead of three model instances per claim."""
    return _claim_rows().filter(customer=customer)


@functools.cache
def _payer_summary() -> QuerySet[ClaimRollup]:
    """The grouped rollup query of every tenant, built once: each request only narrows it to
    its tenant (a WHERE on a grouped column), so no annotation is built twice. Never evaluated."""
    claims = Sum("claims")
    denied = Sum("denied")
    return (
        ClaimRollup.objects.values("payer_id")
        .annotate(
            payer_code=F("payer__code"),
            payer_name=F("payer__name"),
            claim_count=claims,
            denied_count=denied,
            billed_total=Sum("billed"),
            paid_total=Sum("paid"),
            denial_rate=Cast(denied, FloatField()) / Cast(claims, FloatField()),
        )
        .filter(claim_count__gt=0)
        .order_by("payer_name", "payer_id")
    )


#: The rollup's migrations: once both are recorded, the rollup counts every claim (0007 recorded
#: means its backfill reached the last claim older than the triggers) and shows each tenant only
#: its own rows (0011).
ROLLUP_MIGRATIONS = ("0007_claim_rollup_backfill", "0011_claim_rollup_row_security")


@functools.cache
def payer_summary_reads_rollup() -> bool:
    """Whether the payer summary reads the rollup, looked up in django_migrations once per process.

    A build without the rollup's migrations, one still waiting for its expand,
    or one deployed with migrations switched off, aggregates the claims
    instead: the same rows, at a cost that grows with the tenant's claims. A
    process that started before the rollup was expanded keeps aggregating
    until it is replaced, as a rollout does.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM django_migrations WHERE app = 'billing' AND name = ANY(%s)",
            [list(ROLLUP_MIGRATIONS)],
        )
        (found,) = cursor.fetchone()
    return bool(found == len(ROLLUP_MIGRATIONS))


def claim_payer_summary(*, customer: Customer) -> QuerySet[Any]:
    """One row per payer the tenant has billed: counts, totals and denial rate.

    Read from the rollup (at most one row per payer and service date), so its
    cost follows the tenant's date range and payers, not its number of claims;
    aggregated from the claims where the rollup is not complete yet
    (`payer_summary_reads_rollup`). Either way the rows filter on `payer_id`
    and `service_date`, which both tables have.
    """
    # An unsaved customer is the schema generator's stand-in: its queryset is built to learn
    # the model, never evaluated, so it needs no database.
    if customer._state.adding or payer_summary_reads_rollup():
        return _payer_summary().filter(customer=customer)
    return claim_payer_summary_from_claims(customer=customer)


def rollup_payer_summary(*, customer_id: int) -> QuerySet[ClaimRollup]:
    """`claim_payer_summary` read from the rollup, by customer id: what the summary compiles
    once per filter shape (`billing.selectors.compiled`) where the rollup is complete."""
    return _payer_summary().filter(customer_id=customer_id)


def claim_payer_summary_from_claims(*, customer: Customer) -> QuerySet[Claim]:
    """The same rows aggregated from every claim: what the rollup must always equal (`rollup_check`)."""
    denied = Count("id", filter=Q(status=ClaimStatus.DENIED))
    return (
        Claim.objects.filter(customer=customer)
        .values("payer_id")
        .annotate(
            payer_code=F("payer__code"),
            payer_name=F("payer__name"),
            claim_count=Count("id"),
            denied_count=denied,
            billed_total=Sum("billed_amount"),
            paid_total=Sum("paid_amount"),
            denial_rate=Cast(denied, FloatField()) / Cast(Count("id"), FloatField()),
        )
        .order_by("payer_name", "payer_id")
    )
