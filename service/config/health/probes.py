"""What the health endpoints ask the database: one short, time-boxed query each."""

from __future__ import annotations

from functools import cache

from django.db import DatabaseError, connections, transaction
from django.db.migrations.loader import MigrationLoader

from config.health.checks import Node


@cache
def required_migrations() -> dict[Node, tuple[Node, ...]]:
    """Every migration in this code's graph; read from disk once per process."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return {key: tuple(loader.graph.nodes[key].replaces or ()) for key in loader.graph.nodes}


def _describe(error: Exception) -> str:
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {first_line}" if first_line else type(error).__name__


def applied_migrations(*, alias: str, timeout_ms: int) -> tuple[set[Node] | None, str | None]:
    """(applied migrations, None) or (None, why the database did not answer)."""
    connection = connections[alias]
    try:
        with transaction.atomic(using=alias), connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = %s", [timeout_ms])
            cursor.execute("SELECT app, name FROM django_migrations")
            return {(app, name) for app, name in cursor.fetchall()}, None
    except DatabaseError as error:
        if not connection.in_atomic_block:
            # Drop a broken connection so the next probe connects afresh.
            connection.close()
        return None, _describe(error)


def database_answers(*, alias: str, timeout_ms: int) -> str | None:
    """None when the database answers `SELECT 1`, else why not."""
    connection = connections[alias]
    try:
        with transaction.atomic(using=alias), connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = %s", [timeout_ms])
            cursor.execute("SELECT 1")
            return None
    except DatabaseError as error:
        if not connection.in_atomic_block:
            connection.close()
        return _describe(error)
