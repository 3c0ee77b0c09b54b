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


def seed(checkout: Checkout, roles: localdb.DatabaseRoles, env: Mapping[str, str]) -> list[str]:
    """Demo tenants and one API token per tenant, from the API's own seed_demo command (run as the owner)."""
    result = subprocess.run(
        [sys.executable, "manage.py", "seed_demo", "--claims", "300", "--patients", "50"],
        cwd=checkout.service,
        env={**env, **roles.env()},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        lines = [line.strip() for line in result.stderr.splitlines() if line.strip()] or ["no output"]
        reason = next(
            (line for line in reversed(lines) if re.match(r"^[\w.]+(Error|Exception)\b", line)), lines[-1]
        )
        raise RuntimeError(f"seed_demo failed: {reason}")
    line = next(line for line in reversed(result.stdout.splitlines()) if line.startswith("{"))
    return [tenant["token"] for tenant in json.loads(line)["tenants"]]


def migration_jobs(log_dir: Path, release: str) -> dict[str, str]:
    """`app.name` -> the migration Job that applied it (`expand-<revision>`), from the Jobs' JSON reports."""
    job_pod = re.compile(rf"^{release}-(expand|contract)-([0-9a-z]+)-[0-9a-f]{{5}}$")
    applied_by: dict[str, str] = {}
    for folder in sorted(log_dir.glob(f"{release}-*")):
        if not (match := job_pod.match(folder.name)):
            continue
        for log in sorted(folder.glob("*.log")):
            lines = [line for line in log.read_text(errors="replace").splitlines() if line.startswith("{")]
            with contextlib.suppress(ValueError, IndexError):
                for migration in json.loads(lines[-1]).get("applied") or []:
                    applied_by[f"{migration['app']}.{migration['name']}"] = f"{match[1]}-{match[2]}"
    return applied_by


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
