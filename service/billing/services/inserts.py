"""INSERT statements written once per model, for the rows that requests write all the time."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Field, Model

from config.prepared import prepared_cursor

M = TypeVar("M", bound=Model)


@functools.cache
def insert_statement(
    model: type[Model], computed: tuple[tuple[str, str], ...] = ()
) -> tuple[str, tuple[Field, ...]]:
    """The INSERT of one `model` row, without RETURNING, and the fields whose values it takes as
    parameters, in order: built once from the model's metadata, where the ORM would compile it
    on every save. `computed` gives (field name, SQL expression) pairs: those columns take the
    expression instead of a parameter (a value another part of the same statement makes)."""
    meta = model._meta
    expressions = dict(computed)
    unknown = set(expressions) - {field.name for field in meta.concrete_fields}
    assert not unknown, f"{model.__name__} has no fields {sorted(unknown)}"
    fields = tuple(field for field in meta.concrete_fields if not field.primary_key)
    columns = ", ".join(f'"{field.column}"' for field in fields)
    values = ", ".join(expressions.get(field.name, "%s") for field in fields)
    # Names from the model's metadata and expressions from the code; every value is a parameter.
    sql = f'INSERT INTO "{meta.db_table}" ({columns}) VALUES ({values})'  # noqa: S608
    return sql, tuple(field for field in fields if field.name not in expressions)


def insert_values(instance: Model, fields: Sequence[Field]) -> list[Any]:
    """The parameters of `fields` for saving `instance` as a new row, as `Model.save()` makes
    them (field defaults, `auto_now`, `pre_save`)."""
    return [field.get_db_prep_save(field.pre_save(instance, add=True), connection) for field in fields]


def saved(instance: M, pk: object) -> M:
    """`instance`, now the stored row of id `pk`."""
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = connection.alias
    return instance


@functools.cache
def _insert_returning(model: type[Model]) -> tuple[str, tuple[Field, ...]]:
    sql, fields = insert_statement(model)
    assert model._meta.pk is not None, f"{model.__name__} has no primary key to return"
    return f'{sql} RETURNING "{model._meta.pk.column}"', fields


def insert(instance: M) -> M:
    """`instance` saved as a new row, as `Model.save()` saves it, in one statement; no model
    signals are sent (the models here have no receivers)."""
    sql, fields = _insert_returning(instance._meta.model)
    with prepared_cursor() as cursor:
        cursor.execute(sql, insert_values(instance, fields))
        row = cursor.fetchone()
    assert row is not None, "INSERT ... RETURNING returned no row"
    return saved(instance, row[0])
