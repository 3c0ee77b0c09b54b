"""INSERT statements written once per model, for the rows that requests write all the time."""

from __future__ import annotations

import functools
from typing import TypeVar

from django.db import connection
from django.db.models import Field, Model

from config.prepared import prepared_cursor

M = TypeVar("M", bound=Model)


@functools.cache
def _insert(model: type[Model]) -> tuple[str, tuple[Field, ...]]:
    """The INSERT of one `model` row and the fields it writes, in order: built once from the
    model's metadata, where the ORM would compile it on every save."""
    meta = model._meta
    fields = tuple(field for field in meta.concrete_fields if not field.primary_key)
    columns = ", ".join(f'"{field.column}"' for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    assert meta.pk is not None, f"{model.__name__} has no primary key to return"
    # Names from the model's metadata only; every value is a parameter.
    sql = (
        f'INSERT INTO "{meta.db_table}" ({columns}) '  # noqa: S608
        f'VALUES ({placeholders}) RETURNING "{meta.pk.column}"'
    )
    return sql, fields


def insert(instance: M) -> M:
    """`instance` saved as a new row, as `Model.save()` saves it (field defaults, `auto_now`,
    `pre_save`), in one statement; no model signals are sent (the models here have no receivers)."""
    sql, fields = _insert(instance._meta.model)
    values = [field.get_db_prep_save(field.pre_save(instance, add=True), connection) for field in fields]
    with prepared_cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    assert row is not None, "INSERT ... RETURNING returned no row"
    instance.pk = row[0]
    instance._state.adding = False
    instance._state.db = connection.alias
    return instance
