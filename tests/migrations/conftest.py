"""Fixtures for the phased-migration tests: a fresh database per test and the command against it.

Each `Project` is its own PostgreSQL database, reached through its own Django
connection alias, with only the fixture apps it names installed. The command
runs in-process through `call_command` (the Django import costs seconds per
process on a busy machine); `Project.cli` runs the real `python -m django`
process for the tests that pin exit codes and stdout.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dj_database_url
import psycopg
import pytest
from django.core.management import call_command
from django.db import connections
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import override_settings

import localdb

HERE = Path(__file__).parent
BASE_APPS = ["phased_migrations"]


@dataclass
class PhaseResult:
    returncode: int
    stdout: str
    stderr: str

    @property
    def report(self) -> dict[str, Any]:
        return json.loads(self.stdout.strip().splitlines()[-1])


@dataclass
class Project:
    """One fresh database with the fixture apps installed for it."""

    url: str
    alias: str
    apps: list[str]

    @property
    def installed_apps(self) -> list[str]:
        return [*BASE_APPS, *(f"phased_fixture_apps.{app}" for app in self.apps)]

    def installed(self) -> override_settings:
        return override_settings(INSTALLED_APPS=self.installed_apps)

    def phase(self, *args: str) -> PhaseResult:
        out, err = io.StringIO(), io.StringIO()
        code = 0
        with override_settings(INSTALLED_APPS=self.installed_apps):
            try:
                call_command(
                    "migrate_phase", *args, "--json", "--database", self.alias, stdout=out, stderr=err
                )
            except SystemExit as exc:
                code = int(exc.code or 0)
        return PhaseResult(code, out.getvalue(), err.getvalue())

    def human(self, *args: str) -> str:
        out = io.StringIO()
        with override_settings(INSTALLED_APPS=self.installed_apps):
            call_command("migrate_phase", *args, "--database", self.alias, stdout=out, stderr=io.StringIO())
        return out.getvalue()

    def cli(self, *args: str, timeout: float = 120) -> PhaseResult:
        """The command as the migration Job runs it: its own process, settings from the environment."""
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
            "DJANGO_SETTINGS_MODULE": "phased_settings",
            "DATABASE_URL": self.url,
            "PM_APPS": ",".join(self.apps),
            "PYTHONWARNINGS": "ignore",
        }
        done = subprocess.run(
            [sys.executable, "-m", "django", "migrate_phase", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return PhaseResult(done.returncode, done.stdout, done.stderr)

    def migrate(self, app: str, target: str) -> None:
        """Plain Django migrate: the schema a previous release left behind."""
        with override_settings(INSTALLED_APPS=self.installed_apps):
            executor = MigrationExecutor(connections[self.alias])
            migration = executor.loader.get_migration_by_prefix(app, target)
            executor.migrate([(app, migration.name)])

    def connect(self, **kwargs: Any) -> psycopg.Connection[Any]:
        return psycopg.connect(self.url, autocommit=True, **kwargs)

    def sql(self, statement: str, params: Any = None) -> list[tuple[Any, ...]]:
        with self.connect() as conn:
            cursor = conn.execute(statement, params)
            return cursor.fetchall() if cursor.description else []


@pytest.fixture
def project_factory(postgres_url: str, django_db_blocker: Any) -> Iterator[Callable[..., Project]]:
    created: list[Project] = []

    def make(*apps: str) -> Project:
        name = f"phased_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = localdb.database_url(postgres_url, name)
        parsed = dj_database_url.parse(url)
        connections.settings[name] = connections.configure_settings({"default": dict(parsed), name: parsed})[
            name
        ]
        project = Project(url, name, list(apps))
        created.append(project)
        return project

    with django_db_blocker.unblock():
        yield make
        for project in created:
            connections[project.alias].close()
            del connections[project.alias]
            del connections.settings[project.alias]
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        for project in created:
            conn.execute(f'DROP DATABASE IF EXISTS "{project.alias}" WITH (FORCE)')
