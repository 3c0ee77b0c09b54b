"""Writes to patients; each one leaves its audit row in the same transaction."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from billing.errors import InUse, NotFound
from billing.models import AuditAction, Customer, Patient
from billing.services.audit import audit_event
from billing.services.inserts import insert

OBJECT_TYPE = "patient"
EDITABLE_FIELDS = frozenset({"first_name", "last_name", "date_of_birth", "member_id"})


@transaction.atomic
def patient_create(
    *,
    actor: AbstractBaseUser,
    customer: Customer,
    first_name: str,
    last_name: str,
    date_of_birth: datetime.date,
    member_id: str = "",
) -> Patient:
    patient = Patient.objects.create(
        customer=customer,
        first_name=first_name,
        last_name=last_name,
        date_of_birth=date_of_birth,
        member_id=member_id,
    )
    insert(
        audit_event(
            actor=actor,
            customer_id=customer.pk,
            action=AuditAction.CREATE,
            object_type=OBJECT_TYPE,
            object_id=patient.pk,
        )
    )
    return patient


def _locked(patient: Patient) -> Patient:
    """The patient re-read under a row lock: of two concurrent deletes or edits,
    the second waits and then finds it gone (NotFound) instead of acting twice."""
    locked = Patient.objects.select_for_update().filter(pk=patient.pk).first()
    if locked is None:
        raise NotFound(f"Patient {patient.pk} was deleted by another request.")
    return locked


@transaction.atomic
def patient_update(*, actor: AbstractBaseUser, patient: Patient, **changes: Any) -> Patient:
    unknown = set(changes) - EDITABLE_FIELDS
    assert not unknown, f"patient_update() got fields it does not edit: {sorted(unknown)}"
    patient = _locked(patient)
    for name, value in changes.items():
        setattr(patient, name, value)
    patient.save(update_fields=[*changes, "updated_at"])
    insert(
        audit_event(
            actor=actor,
            customer_id=patient.customer_id,
            action=AuditAction.UPDATE,
            object_type=OBJECT_TYPE,
            object_id=patient.pk,
        )
    )
    return patient


@transaction.atomic
def patient_delete(*, actor: AbstractBaseUser, patient: Patient) -> None:
    patient = _locked(patient)
    if patient.claims.exists():
        raise InUse(
            "This patient has claims and cannot be deleted; claims keep their patient for the record."
        )
    patient_id = patient.pk
    patient.delete()
    insert(
        audit_event(
            actor=actor,
            customer_id=patient.customer_id,
            action=AuditAction.DELETE,
            object_type=OBJECT_TYPE,
            object_id=patient_id,
        )
    )
