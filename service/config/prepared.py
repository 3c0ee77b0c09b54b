"""Prepared statements for the request path's fixed SQL.

Django binds parameters on the client and never prepares a statement, so
PostgreSQL parses and plans every statement afresh. For the statements every
request sends, planning cost more than running: the token lookup was planned in
0.38 ms and ran in 0.05 ms (pg_stat_statements with track_planning, 100,000
claims per tenant). Those statements are written once and differ only in
their values: the token lookup, the throttle's count, a claim's number and INSERT, the audit row, the
row-by-id lookups and the payer summary per filter shape. A cursor from
`prepared_cursor()` binds its values on the server and prepares each statement
on its first run on that connection; later runs skip parsing and, once
PostgreSQL judges a generic plan as good as a planned one, planning.

Every other query keeps Django's client-side binding. A filtered list is
planned for its values: the claim list's generic plan sorted every matching
claim (2.8 ms) where its plan for the values walks the number index (0.65 ms).

`DB_PREPARED_STATEMENTS=false` turns it off, for a pooler that does not keep
a server connection per client connection (PgBouncer's transaction mode before
1.21): `prepared_cursor()` is then an ordinary cursor.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.utils import CursorWrapper

#: Set while `prepared_cursor()` makes its cursor, read by `cursor_factory`.
_PREPARING: ContextVar[bool] = ContextVar("rollguard_prepared_cursor", default=False)


@cache
def _cursor_classes() -> tuple[type[Any], type[Any]]:
    """(Django's client-binding cursor, a server-binding cursor that prepares every statement).

    Imported on first use: settings name `cursor_factory` before Django's backend may load."""
    from django.db.backends.postgresql.base import Cursor, ServerBindingCursor

    class PreparingCursor(ServerBindingCursor):  # type: ignore[misc,valid-type]
        def execute(self, query: Any, params: Any = None, *, prepare: bool | None = True, **kw: Any) -> Any:
            return super().execute(query, params, prepare=prepare, **kw)

        def _send_query_prepared(self, name: bytes, pgq: Any, **kw: Any) -> None:
            # As psycopg's unprepared path does: Django's query log (CaptureQueriesContext,
            # DEBUG) reads the statement it ran from `_query`.
            self._query = pgq
            super()._send_query_prepared(name, pgq, **kw)

    return Cursor, PreparingCursor


def cursor_factory(connection: Any, *, row_factory: Any = None) -> Any:
    """psycopg's `cursor_factory` for settings.DATABASES' OPTIONS: Django's own cursor, or
    inside `prepared_cursor()` the preparing one."""
    client, preparing = _cursor_classes()
    return (preparing if _PREPARING.get() else client)(connection, row_factory=row_factory)


def options() -> dict[str, Any]:
    """What settings.DATABASES' OPTIONS add to prepare `prepared_cursor()`'s statements.

    psycopg prepares only when a cursor asks (Django's client-binding cursors never do),
    but Django's default threshold, None, would refuse even that."""
    return {"cursor_factory": cursor_factory, "prepare_threshold": 1}


def enabled(using: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether `using`'s cursors from `prepared_cursor()` prepare their statements."""
    return settings.DATABASES[using].get("OPTIONS", {}).get("cursor_factory") is cursor_factory


@contextmanager
def prepared_cursor(using: str = DEFAULT_DB_ALIAS) -> Iterator[CursorWrapper]:
    """`connections[using].cursor()`, whose statements are prepared on their first run
    (where enabled): for SQL written once whose plan does not depend on its values."""
    token = _PREPARING.set(True)
    try:
        cursor = connections[using].cursor()
    finally:
        _PREPARING.reset(token)
    with cursor:
        yield cursor
