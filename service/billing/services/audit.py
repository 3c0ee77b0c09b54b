"""Writing the audit trail. Callers run it inside the transaction of the access it records."""

from __future__ import annotations

import functools

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import Field

from billing.models import AuditAction, AuditEvent, AuditOutcome
from config.request_context import current_request_id


@functools.cache
def _insert() -> tuple[str, tuple[Field, ...]]:
    """The INSERT of one audit row and the fields it writes, in order: built once from the
    model's metadata, since every request writes a row and the ORM would compile it each time."""
    fields = tuple(field for field in AuditEvent._meta.concrete_fields if not field.primary_key)
    columns = ", ".join(f'"{field.column}"' for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    pk = AuditEvent._meta.pk
    assert pk is not None
    # Names from the model's metadata only; every value is a parameter.
    sql = (
        f'INSERT INTO "{AuditEvent._meta.db_table}" ({columns}) '  # noqa: S608
        f'VALUES ({placeholders}) RETURNING "{pk.column}"'
    )
    return sql, fields


def audit_record(
    *,
    actor: AbstractBaseUser,
    customer_id: int,
    action: AuditAction,
    object_type: str,
    object_id: object = "",
    outcome: AuditOutcome = AuditOutcome.SUCCESS,
) -> AuditEvent:
    event = AuditEvent(
        actor=actor,
        customer_id=customer_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        outcome=outcome,
        request_id=current_request_id.get(),
    )
    sql, fields = _insert()
    values = [field.get_db_prep_save(field.pre_save(event, add=True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        (event.pk,) = cursor.fetchone()
    event._state.adding = False
    event._state.db = connection.alias
    return event
