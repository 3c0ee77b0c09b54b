"""Read-only questions to PostgreSQL's catalog that make every safe operation re-runnable.

Each step of an operation first asks the catalog whether its effect is already
there, so a migration killed between two statements finishes correctly when it
runs again. IF NOT EXISTS is never used for indexes: it would accept an
invalid index left behind by a failed CREATE INDEX CONCURRENTLY.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any


class IndexState(enum.Enum):
    MISSING = "missing"
    VALID = "valid"
    INVALID = "invalid"


def index_state(connection: Any, name: str) -> IndexState:
    """Whether index `name` exists in the search path and whether PostgreSQL may use it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = %s AND pg_table_is_visible(c.oid)",
            [name],
        )
        row = cursor.fetchone()
    if row is None:
        return IndexState.MISSING
    return IndexState.VALID if row[0] else IndexState.INVALID


def constraint_validated(connection: Any, table: str, name: str) -> bool | None:
    """None when `table` has no constraint `name`; otherwise whether it has been validated."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT convalidated FROM pg_constraint WHERE conname = %s AND conrelid = to_regclass(%s)",
            [name, connection.ops.quote_name(table)],
        )
        row = cursor.fetchone()
    return None if row is None else bool(row[0])


def column_is_not_null(connection: Any, table: str, column: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attnotnull FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = %s",
            [connection.ops.quote_name(table), column],
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def duplicate_keys(
    connection: Any, table: str, columns: Sequence[str], limit: int = 10
) -> list[tuple[Any, ...]]:
    """Key values that occur more than once, with their count: the key columns only, never the row."""
    quote = connection.ops.quote_name
    cols = ", ".join(quote(c) for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {cols}, count(*) FROM {quote(table)} GROUP BY {cols} "  # noqa: S608 - quoted identifiers
            f"HAVING count(*) > 1 ORDER BY count(*) DESC, {cols} LIMIT %s",
            [limit],
        )
        return [tuple(row) for row in cursor.fetchall()]
