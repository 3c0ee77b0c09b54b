"""One row by id, in a statement written once per model and filter: for the lookups every request makes."""

from __future__ import annotations

import functools
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
