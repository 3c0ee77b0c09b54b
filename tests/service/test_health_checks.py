"""The pure readiness rules."""

from __future__ import annotations

import pytest

from config.health.checks import readiness_reasons, unapplied_migrations

A1, A2, B1 = ("a", "0001"), ("a", "0002"), ("b", "0001")
SQUASHED = ("a", "0001_squashed_0002")


@pytest.mark.parametrize(
    ("required", "applied", "missing"),
    [
        ({A1: (), A2: ()}, {A1, A2}, []),
        ({A1: (), A2: ()}, {A1}, ["a.0002"]),
        ({A1: (), B1: ()}, set(), ["a.0001", "b.0001"]),
        ({A1: ()}, {A1, ("a", "0003_newer")}, []),
        ({SQUASHED: (A1, A2)}, {A1, A2}, []),
        ({SQUASHED: (A1, A2)}, {SQUASHED}, []),
        ({SQUASHED: (A1, A2)}, {A1}, ["a.0001_squashed_0002"]),
    ],
)
def test_unapplied_migrations(required, applied, missing):
    assert unapplied_migrations(required, applied) == missing


def test_database_errors_come_first():
    assert readiness_reasons(database_error="boom", missing_migrations=["a.1"]) == [
        "database unreachable: boom"
    ]


def test_a_long_list_of_migrations_is_shortened():
    reasons = readiness_reasons(database_error=None, missing_migrations=[f"a.{i:04d}" for i in range(12)])
    assert reasons == [f"unapplied migrations: {', '.join(f'a.{i:04d}' for i in range(10))} and 2 more"]


def test_no_reasons_means_ready():
    assert readiness_reasons(database_error=None, missing_migrations=[]) == []
