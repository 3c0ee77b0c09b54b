"""A filtered query compiled by the ORM once per shape, then run with each request's values.

Compiling a grouped, joined queryset to SQL costs more Python than running it.
The SQL of such a query depends only on which filters a request uses (its
shape), not on their values: so each shape is compiled once, from the same
queryset code, with stand-in values, and each request only puts its own values
where the stand-ins were. The ORM stays the one definition of the query.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from config.prepared import prepared_cursor

#: A shape's values by name; a range filter's ends are `name.start` and `name.stop`.
Values = Mapping[str, Any]


def flat_values(cleaned: Mapping[str, Any]) -> dict[str, Any]:
    """A FilterSet form's cleaned data as `Values`: empty filters left out, ranges split in two ends."""
    flat: dict[str, Any] = {}
    for name, value in cleaned.items():
        if isinstance(value, slice):
            for end in ("start", "stop"):
                if getattr(value, end) is not None:
                    flat[f"{name}.{end}"] = getattr(value, end)
        elif value not in (None, "", [], ()):
            flat[name] = value
    return flat


def nested_values(values: Values) -> dict[str, Any]:
    """The inverse of `flat_values`: what a FilterSet's `filter_queryset` reads as cleaned data."""
    nested: dict[str, Any] = {}
    for key, value in values.items():
        name, _, end = key.partition(".")
        if end:
            bounds = nested.get(name) or slice(None, None)
            nested[name] = slice(value, bounds.stop) if end == "start" else slice(bounds.start, value)
        else:
            nested[name] = value
    return nested


@dataclass(frozen=True)
class Compiled:
    sql: str
    params: tuple[Any, ...]
    #: Each value's position among `params`.
    slots: Mapping[str, int]


def _stand_in(number: int, kind: type) -> Any:
    """A value of `kind` no request sends, distinct for each `number`."""
    if kind is int:
        return 2**62 + number
    if kind is datetime.date:
        return datetime.date(1000, 1, 1) + datetime.timedelta(days=number)
    raise TypeError(f"no stand-in for {kind.__name__} values: compile such a filter per request")


class ShapeCompiled:
    """`build(values)` compiled once per set of value names, each name of a type in `kinds`."""

    def __init__(self, build: Callable[[Values], QuerySet[Any]], kinds: Mapping[str, type]) -> None:
        self._build = build
        self._kinds = dict(kinds)
        self._shapes: dict[frozenset[str], Compiled] = {}
        self._lock = threading.Lock()

    def compiled(self, names: frozenset[str]) -> Compiled:
        found = self._shapes.get(names)
        if found is None:
            with self._lock:
                found = self._shapes.get(names) or self._compile(names)
                self._shapes[names] = found
        return found

    def _compile(self, names: frozenset[str]) -> Compiled:
        unknown = names - self._kinds.keys()
        if unknown:
            raise KeyError(f"no kind declared for {sorted(unknown)}")
        stand_ins = {name: _stand_in(number, self._kinds[name]) for number, name in enumerate(sorted(names))}
        sql, params = self._build(stand_ins).query.sql_with_params()
        slots: dict[str, int] = {}
        for name, stand_in in stand_ins.items():
            where = [index for index, param in enumerate(params) if param == stand_in]
            # Each value must reach the SQL once and unchanged (no LIKE pattern, no cast).
            if len(where) != 1:
                raise ValueError(f"{name} appears {len(where)} times among the compiled parameters")
            slots[name] = where[0]
        return Compiled(sql=sql, params=tuple(params), slots=slots)

    def rows(self, values: Values) -> list[dict[str, Any]]:
        """The rows of `build(values)`, column name -> the database's value: no ORM converter runs
        (a sum of a bigint column is a Decimal, as PostgreSQL returns it)."""
        compiled = self.compiled(frozenset(values))
        params = list(compiled.params)
        for name, index in compiled.slots.items():
            params[index] = values[name]
        with prepared_cursor() as cursor:
            cursor.execute(compiled.sql, params)
            columns = [column.name for column in cursor.description or ()]
            return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
