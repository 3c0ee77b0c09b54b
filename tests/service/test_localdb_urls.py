"""Naming another database on the same server keeps the server's address and options."""

from __future__ import annotations

import pytest

import localdb


@pytest.mark.parametrize(
    ("server", "expected"),
    [
        ("postgresql://postgres@127.0.0.1:5433/postgres", "postgresql://postgres@127.0.0.1:5433/claims"),
        (
            "postgresql://u:p@db.example:5432/app?sslmode=require",
            "postgresql://u:p@db.example:5432/claims?sslmode=require",
        ),
        ("postgresql://postgres@127.0.0.1:5433", "postgresql://postgres@127.0.0.1:5433/claims"),
    ],
)
def test_database_url_swaps_only_the_database_name(server, expected):
    assert localdb.database_url(server, "claims") == expected


def test_server_url_prefers_database_url(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db.example/app")
    with localdb.server_url() as url:
        assert url == "postgresql://u@db.example/app"
