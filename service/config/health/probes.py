"""What the health endpoints ask the database: one short, time-boxed query each."""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.db.migrations.loader import MigrationLoader

from config.health.checks import CodeMigration, Node
from phased_migrations.classify import UnclassifiableMigration, classify
from phased_migrations.graph import fields_before
from phased_migrations.markers import Phase

logger = logging.getLogger("config.health")


def is_expand(loader: MigrationLoader, migration: Any, overrides: dict[str, str]) -> bool:
    """Whether `migrate_phase` runs `migration` before a rollout (its app having history)."""
    override = overrides.get(f"{migration.app_label}.{migration.name}")
    try:
        found = classify(
            migration,
            fields_before(loader, migration),
            override=Phase(override) if override else None,
        )
    except UnclassifiableMigration:
        # `migrate_phase expand` refuses it, so the schema this code expects may never arrive.
        return True
    return found.phase is Phase.EXPAND


@cache
def code_migrations() -> dict[Node, CodeMigration]:
    """Every migration in this code's graph with its phase; read from disk and classified once per process."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    overrides = getattr(settings, "PHASED_MIGRATIONS_PHASES", {})
    return {
        key: CodeMigration(
            replaces=tuple(migration.replaces or ()),
            expand=is_expand(loader, migration, overrides),
        )
        for key, migration in loader.graph.nodes.items()
    }


def _describe(error: Exception) -> str:
    """The error's type only: its message names hosts, ports and users, which the
    unauthenticated probe must not tell anyone. The message goes to the log."""
    logger.warning("database check failed: %s", error, extra={"event": type(error).__name__})
    return type(error).__name__


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
