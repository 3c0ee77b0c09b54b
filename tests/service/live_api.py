"""A live API for the tests that need real processes: its own database with the two roles,
migrated by the owner as a release is, seeded, and served by gunicorn as the application role."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

import localdb

SERVICE = Path(__file__).resolve().parents[2] / "service"


@dataclass
class LiveApi:
    url: str
    metrics_url: str
    # Where the workers write their counts (PROMETHEUS_MULTIPROC_DIR), one file per process.
    metrics_dir: Path
    roles: localdb.DatabaseRoles
    tokens: list[str]


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=SERVICE, env=env, capture_output=True, text=True, check=True
    )
    return result.stdout


def _wait_ready(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{url}/health/live", timeout=30) as response,
        ):
            if response.status == 200:
                return
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not become ready")


@contextlib.contextmanager
def live_api(server_url: str, name: str, **settings: str) -> Iterator[LiveApi]:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    roles = localdb.provision_roles(server_url, name)
    env = {**os.environ, **roles.env(), "DJANGO_SETTINGS_MODULE": "config.settings", **settings}
    for phase in ("expand", "contract"):
        _manage(env, "migrate_phase", phase)
    seed = json.loads(_manage(env, "seed_demo", "--claims", "40", "--patients", "10").splitlines()[-1])
    port, metrics_port = localdb.free_port(), localdb.free_port()
    metrics_dir = Path(tempfile.mkdtemp(prefix=f"{name}-metrics-"))
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "config.wsgi"],
        cwd=SERVICE,
        env={
            "API_REVISION": name,
            **env,
            "MIGRATION_DATABASE_URL": "",
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "METRICS_PORT": str(metrics_port),
            "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        },
        stdout=subprocess.DEVNULL,
        stderr=None if os.environ.get("LIVE_API_LOGS") else subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url)
        yield LiveApi(
            url=url,
            metrics_url=f"http://127.0.0.1:{metrics_port}/metrics",
            metrics_dir=metrics_dir,
            roles=roles,
            tokens=[t["token"] for t in seed["tenants"]],
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(metrics_dir, ignore_errors=True)
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
