"""One row by id, in a statement written once per model and filter: for the lookups every request makes."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TypeVar

from django.db import connection
from django.db.models import Model

from config.prepared import prepared_cursor

M = TypeVar("M", bound=Model)


@functools.cache
def _by_id_sql(model: type[Model], columns: tuple[str, ...]) -> str:
    meta = model._meta
    selected = ", ".join(f'"{field.column}"' for field in meta.concrete_fields)
    assert meta.pk is not None, f"{model.__name__} has no primary key to look rows up by"
    where = " AND ".join(f'"{meta.get_field(name).column}" = %s' for name in (meta.pk.name, *columns))
    # Names from the model's metadata only; every value is a parameter.
    return f'SELECT {selected} FROM "{meta.db_table}" WHERE {where}'  # noqa: S608


def row_by_id(model: type[M], pk: int, **equal: object) -> M | None:
    """The `model` row of id `pk` whose fields equal `equal` (e.g. `customer_id=...`), or None:
    what `model.objects.filter(**equal).filter(pk=pk).first()` finds, without compiling it."""
    names = tuple(sorted(equal))
    with prepared_cursor() as cursor:
        cursor.execute(_by_id_sql(model, names), [pk, *(equal[name] for name in names)])
        row = cursor.fetchone()
    return None if row is None else model.from_db(connection.alias, None, row)


@functools.cache
def _by_ids_sql(shapes: tuple[tuple[type[Model], tuple[str, ...]], ...]) -> str:
    selected: list[str] = []
    joins: list[str] = []
    for index, (model, columns) in enumerate(shapes):
        meta = model._meta
        assert meta.pk is not None, f"{model.__name__} has no primary key to look rows up by"
        alias = f"r{index}"
        selected += [f'{alias}."{field.column}"' for field in meta.concrete_fields]
        on = " AND ".join(
            f'{alias}."{meta.get_field(name).column}" = %s' for name in (meta.pk.name, *columns)
        )
        joins.append(f'LEFT JOIN "{meta.db_table}" {alias} ON {on}')
    # Names from the models' metadata only; every value is a parameter.
    return f"SELECT {', '.join(selected)} FROM (VALUES (1)) AS one {' '.join(joins)}"  # noqa: S608


def rows_by_id(*lookups: tuple[type[Model], int, Mapping[str, object]]) -> list[Model | None]:
    """What `row_by_id(model, pk, **equal)` finds for each `(model, pk, equal)` of `lookups`, in
    that order, in one statement (one LEFT JOIN per lookup)."""
    shapes = tuple((model, tuple(sorted(equal))) for model, _, equal in lookups)
    params = [
        value
        for (_, pk, equal), (_, names) in zip(lookups, shapes, strict=True)
        for value in (pk, *(equal[n] for n in names))
    ]
    with prepared_cursor() as cursor:
        cursor.execute(_by_ids_sql(shapes), params)
        row = cursor.fetchone()
    assert row is not None, "a LEFT JOIN of one row returned none"
    found: list[Model | None] = []
    start = 0
    for model, _ in shapes:
        fields = model._meta.concrete_fields
        values = row[start : start + len(fields)]
        start += len(fields)
        pk_index = next(i for i, field in enumerate(fields) if field.primary_key)
        found.append(None if values[pk_index] is None else model.from_db(connection.alias, None, values))
    return found
