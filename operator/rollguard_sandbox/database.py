"""The API's database in the sandbox: the embedded server, demo tenants, which Job applied what."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import localdb
from rollguard_sandbox.checkout import Checkout


@contextlib.contextmanager
def embedded_postgres() -> Iterator[localdb.LocalPostgres]:
    """The sandbox's server, in a folder of its own under the system's temporary folder: the
    server runs as an unprivileged user when we are root, and `--results` may lie under folders
    private to root (pytest's, for one)."""
    with tempfile.TemporaryDirectory(prefix="rollguard-sandbox-pg-") as folder:
        os.chmod(folder, 0o755)  # noqa: S103
        with localdb.running(Path(folder) / "data") as server:
            yield server


def manage(
    service: Path, roles: localdb.DatabaseRoles, env: Mapping[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    """`manage.py <args>` of the API's code in `service`, with both database URLs (owner commands
    connect as the owner, `config.databases.OWNER_COMMANDS`)."""
    return subprocess.run(  # noqa: S603 (the API's own manage.py, with the story's arguments)
        [sys.executable, "manage.py", *args],
        cwd=service,
        env={**env, **roles.env()},
        capture_output=True,
        text=True,
        check=False,
    )


def last_json(text: str) -> dict[str, Any] | None:
    """The last line of `text` that is a JSON object, as the API's commands report."""
    for line in reversed(text.splitlines()):
        if line.startswith("{"):
            with contextlib.suppress(ValueError):
                found = json.loads(line)
                return found if isinstance(found, dict) else None
    return None


def seed(checkout: Checkout, roles: localdb.DatabaseRoles, env: Mapping[str, str]) -> list[str]:
    """Demo tenants and one API token per tenant, from the API's own seed_demo command (run as the owner)."""
    result = manage(checkout.service, roles, env, "seed_demo", "--claims", "300", "--patients", "50")
    if result.returncode != 0:
        lines = [line.strip() for line in result.stderr.splitlines() if line.strip()] or ["no output"]
        reason = next(
            (line for line in reversed(lines) if re.match(r"^[\w.]+(Error|Exception)\b", line)), lines[-1]
        )
        raise RuntimeError(f"seed_demo failed: {reason}")
    return [tenant["token"] for tenant in (last_json(result.stdout) or {})["tenants"]]


def check(
    service: Path, roles: localdb.DatabaseRoles, env: Mapping[str, str], command: str
) -> dict[str, Any]:
    """An owner command's exit code and JSON report (`rollup_check`), and why it failed if it did."""
    result = manage(service, roles, env, command)
    found: dict[str, Any] = {"exitCode": result.returncode, "report": last_json(result.stdout)}
    if result.returncode != 0:
        found["error"] = (result.stderr.strip().splitlines() or ["no output"])[-1]
    return found


def migration_reports(log_dir: Path, release: str) -> dict[str, dict[str, Any]]:
    """`app.name` -> the migration Job that applied it (`expand-<revision>`) and how long it took,
    from the Jobs' JSON reports."""
    job_pod = re.compile(rf"^{release}-(expand|contract)-([0-9a-z]+)-[0-9a-f]{{5}}$")
    found: dict[str, dict[str, Any]] = {}
    for folder in sorted(log_dir.glob(f"{release}-*")):
        if not (match := job_pod.match(folder.name)):
            continue
        for log in sorted(folder.glob("*.log")):
            report = last_json(log.read_text(errors="replace")) or {}
            for migration in report.get("applied") or []:
                with contextlib.suppress(KeyError, TypeError):
                    found[f"{migration['app']}.{migration['name']}"] = {
                        "job": f"{match[1]}-{match[2]}",
                        "seconds": migration.get("seconds"),
                    }
    return found


def migration_jobs(log_dir: Path, release: str) -> dict[str, str]:
    """`app.name` -> the migration Job that applied it (`expand-<revision>`)."""
    return {label: report["job"] for label, report in migration_reports(log_dir, release).items()}


def public_tables(database_url: str) -> list[str]:
    """The tables of the database's public schema, as they are now."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        ).fetchall()
    return [name for (name,) in rows]


def applied_migrations(database_url: str, applied_by: Mapping[str, str]) -> list[dict[str, Any]]:
    """The rows of django_migrations in the order they were applied, each with the Job that did it."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        if conn.execute("SELECT to_regclass('django_migrations')").fetchone() == (None,):
            return []
        rows = conn.execute("SELECT id, app, name, applied FROM django_migrations ORDER BY id").fetchall()
    return [
        {
            "id": row[0],
            "app": row[1],
            "name": row[2],
            "applied": row[3].isoformat(),
            "job": applied_by.get(f"{row[1]}.{row[2]}", ""),
        }
        for row in rows
    ]
