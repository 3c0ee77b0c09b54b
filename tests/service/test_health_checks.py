"""The pure readiness rules, and how each migration of the code is classified for them."""

from __future__ import annotations

import pytest
from django.db import migrations
from django.db.migrations.loader import MigrationLoader

from config.health.checks import CodeMigration, readiness_reasons, unapplied_migrations
from config.health.probes import is_expand
from phased_migrations.markers import Phase

A1, A2, B1 = ("a", "0001"), ("a", "0002"), ("b", "0001")
SQUASHED = ("a", "0001_squashed_0002")
EXPAND, CONTRACT = CodeMigration(), CodeMigration(expand=False)


@pytest.mark.parametrize(
    ("code", "applied", "missing"),
    [
        ({A1: EXPAND, A2: EXPAND}, {A1, A2}, []),
        ({A1: EXPAND, A2: EXPAND}, {A1}, ["a.0002"]),
        ({A1: EXPAND, B1: EXPAND}, set(), ["a.0001", "b.0001"]),
        ({A1: EXPAND}, {A1, ("a", "0003_newer")}, []),
        ({SQUASHED: CodeMigration(replaces=(A1, A2))}, {A1, A2}, []),
        ({SQUASHED: CodeMigration(replaces=(A1, A2))}, {SQUASHED}, []),
        ({SQUASHED: CodeMigration(replaces=(A1, A2))}, {A1}, ["a.0001_squashed_0002"]),
        # The new code serves before its contract migrations run.
        ({A1: EXPAND, A2: CONTRACT}, {A1}, []),
        ({A1: EXPAND, A2: CONTRACT, B1: EXPAND}, {A1}, ["b.0001"]),
        # An app the database has never seen gets everything from expand.
        ({B1: CONTRACT}, {A1}, ["b.0001"]),
    ],
)
def test_unapplied_migrations(code, applied, missing):
    assert unapplied_migrations(code, applied) == missing


def test_database_errors_come_first():
    assert readiness_reasons(database_error="boom", missing_migrations=["a.1"]) == [
        "database unreachable: boom"
    ]


def test_a_long_list_of_migrations_is_shortened():
    reasons = readiness_reasons(database_error=None, missing_migrations=[f"a.{i:04d}" for i in range(12)])
    assert reasons == [f"unapplied migrations: {', '.join(f'a.{i:04d}' for i in range(10))} and 2 more"]


def test_no_reasons_means_ready():
    assert readiness_reasons(database_error=None, missing_migrations=[]) == []


def _migration(*operations, **attrs):
    migration = type("Migration", (migrations.Migration,), {"operations": list(operations), **attrs})
    return migration("0099_probe", "billing")


@pytest.fixture(scope="module")
def loader():
    return MigrationLoader(None, ignore_no_migrations=True)


@pytest.mark.parametrize(
    ("migration", "overrides", "expand"),
    [
        # Expand would refuse an unmarked RunPython, so the code cannot count on doing without it.
        (_migration(migrations.RunPython(migrations.RunPython.noop)), {}, True),
        (_migration(migrations.RemoveField("claim", "number")), {}, False),
        (_migration(migrations.RemoveField("claim", "number")), {"billing.0099_probe": "expand"}, True),
        (_migration(migrations.RunSQL("SELECT 1"), phase=Phase.CONTRACT), {}, False),
    ],
)
def test_each_migration_of_the_code_is_classified_as_migrate_phase_would(
    loader, migration, overrides, expand
):
    assert is_expand(loader, migration, overrides) is expand
