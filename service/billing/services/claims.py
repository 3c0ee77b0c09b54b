"""Writes to claims: submission with race-free numbering, edits, status transitions."""

from __future__ import annotations

import datetime
import functools
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Field

from billing.errors import DomainError, NotFound
from billing.models import AuditAction, AuditEvent, Claim, Customer, Patient, Payer
from billing.services.audit import audit_event
from billing.services.inserts import insert, insert_statement, insert_values, saved
from billing.workflow import check_editable, plan_transition
from config.prepared import prepared_cursor

OBJECT_TYPE = "claim"
NUMBER_CONSTRAINT = "claim_number_unique_per_customer"
EDITABLE_FIELDS = frozenset({"patient", "payer", "billed_amount", "service_date"})
_NEXT_NUMBER = (
    "UPDATE billing_customer SET last_claim_number = last_claim_number + 1 "
    "WHERE id = %s RETURNING last_claim_number"
)
_LOCK_CUSTOMER = "SELECT 1 FROM billing_customer WHERE id = %s FOR UPDATE"
# The tenant's claims are visible: the request set it for row-level security.
_CATCH_UP_NUMBER = (
    "UPDATE billing_customer c SET last_claim_number = GREATEST(c.last_claim_number, "
    "COALESCE((SELECT max(number) FROM billing_claim WHERE customer_id = c.id), 0)) "
    "WHERE c.id = %s"
)


def _check_parties(*, customer_id: int, patient: Patient, payer: Payer) -> None:
    if patient.customer_id != customer_id:
        raise DomainError(f"Patient {patient.pk} does not exist.", field="patient")
    if not payer.is_active:
        raise DomainError(
            f"Payer {payer.code} no longer accepts claims; choose an active payer.", field="payer"
        )


def _is_number_clash(error: IntegrityError) -> bool:
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None) == NUMBER_CONSTRAINT


@functools.cache
def _submission() -> tuple[str, tuple[Field, ...], tuple[Field, ...]]:
    """One statement that takes the tenant's next number, inserts the claim under it and its
    `create` audit row naming the claim's id; and the claim's and the audit row's parameter
    fields. Taking the number locks the tenant's row, so only one tenant's submissions queue."""
    claim_pk = Claim._meta.pk
    assert claim_pk is not None
    claim_sql, claim_fields = insert_statement(
        Claim, (("number", "(SELECT last_claim_number FROM next_number)"),)
    )
    audit_sql, audit_fields = insert_statement(
        AuditEvent,
        (("object_id", f'(SELECT "{claim_pk.column}"::text FROM new_claim)'),),  # noqa: S608
    )
    # Names from the models' metadata and SQL of this module; every value is a parameter.
    sql = (
        f"WITH next_number AS ({_NEXT_NUMBER}), "  # noqa: S608
        f'new_claim AS ({claim_sql} RETURNING "{claim_pk.column}", "number"), '
        f"new_audit AS ({audit_sql}) "
        f'SELECT "{claim_pk.column}", "number" FROM new_claim'
    )
    return sql, claim_fields, audit_fields


def _insert_submission(claim: Claim, event: AuditEvent) -> Claim:
    sql, claim_fields, audit_fields = _submission()
    params = [claim.customer_id, *insert_values(claim, claim_fields), *insert_values(event, audit_fields)]
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        pk, number = cursor.fetchone()
    claim.number = int(number)
    event.object_id = str(pk)
    return saved(claim, pk)


def _catch_up_number(customer: Customer) -> None:
    """The tenant's counter caught up with the highest number in use, repairing a counter that
    rows inserted by other means got ahead of."""
    with prepared_cursor() as cursor:
        # Locked first, so that the catch-up's own snapshot sees every claim of a writer it waited for.
        cursor.execute(_LOCK_CUSTOMER, [customer.pk])
        cursor.execute(_CATCH_UP_NUMBER, [customer.pk])


def claim_submit(
    *,
    actor: AbstractBaseUser,
    customer: Customer,
    patient: Patient,
    payer: Payer,
    billed_amount: Decimal,
    service_date: datetime.date,
) -> Claim:
    """A new claim under the tenant's next number, with its audit row: one statement."""
    _check_parties(customer_id=customer.pk, patient=patient, payer=payer)
    claim = Claim(
        customer=customer,
        patient=patient,
        payer=payer,
        billed_amount=billed_amount,
        service_date=service_date,
    )
    event = audit_event(
        actor=actor, customer_id=customer.pk, action=AuditAction.CREATE, object_type=OBJECT_TYPE
    )
    for attempt in range(2):
        try:
            with transaction.atomic():
                if attempt:
                    _catch_up_number(customer)
                return _insert_submission(claim, event)
        except IntegrityError as error:
            if attempt or not _is_number_clash(error):
                raise
    raise AssertionError("claim_submit() retries once and either returns or raises")  # pragma: no cover


def _locked(claim: Claim) -> Claim:
    """The claim re-read under a row lock, so its status cannot change underneath;
    NotFound when a concurrent request deleted it first."""
    locked = Claim.objects.select_for_update().select_related("patient", "payer").filter(pk=claim.pk).first()
    if locked is None:
        raise NotFound(f"Claim {claim.pk} was deleted by another request.")
    return locked


@transaction.atomic
def claim_update(*, actor: AbstractBaseUser, claim: Claim, **changes: Any) -> Claim:
    unknown = set(changes) - EDITABLE_FIELDS
    assert not unknown, f"claim_update() got fields it does not edit: {sorted(unknown)}"
    claim = _locked(claim)
    check_editable(status=claim.status, action="edited")
    for name, value in changes.items():
        setattr(claim, name, value)
    if {"patient", "payer"} & set(changes):
        _check_parties(customer_id=claim.customer_id, patient=claim.patient, payer=claim.payer)
    claim.save(update_fields=[*changes, "updated_at"])
    insert(
        audit_event(
            actor=actor,
            customer_id=claim.customer_id,
            action=AuditAction.UPDATE,
            object_type=OBJECT_TYPE,
            object_id=claim.pk,
        )
    )
    return claim


@transaction.atomic
def claim_transition(
    *,
    actor: AbstractBaseUser,
    claim: Claim,
    status: str,
    paid_amount: Decimal | None = None,
    denial_reason: str = "",
) -> Claim:
    claim = _locked(claim)
    result = plan_transition(
        current=claim.status,
        target=status,
        billed_amount=claim.billed_amount,
        paid_amount=paid_amount,
        denial_reason=denial_reason,
    )
    claim.status = result.status
    claim.paid_amount = result.paid_amount
    claim.denial_reason_text = result.denial_reason
    claim.save(update_fields=["status", "paid_amount", "denial_reason_text", "updated_at"])
    insert(
        audit_event(
            actor=actor,
            customer_id=claim.customer_id,
            action=AuditAction.UPDATE,
            object_type=OBJECT_TYPE,
            object_id=claim.pk,
        )
    )
    return claim


@transaction.atomic
def claim_delete(*, actor: AbstractBaseUser, claim: Claim) -> None:
    claim = _locked(claim)
    check_editable(status=claim.status, action="deleted")
    claim_id = claim.pk
    claim.delete()
    insert(
        audit_event(
            actor=actor,
            customer_id=claim.customer_id,
            action=AuditAction.DELETE,
            object_type=OBJECT_TYPE,
            object_id=claim_id,
        )
    )
