"""`make run` end to end: migrate, seed, print the URLs, serve, stop on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import urllib.request

import devserver
import psycopg
import pytest

import localdb
from localdb import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def fresh_database(postgres_url):
    name = "rollguard_devserver"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    yield localdb.provision_roles(postgres_url, name)
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def restored_signals():
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def _stop_when_ready(url: str, metrics_url: str, seen: dict) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                seen["ready"] = json.loads(response.read())
            with urllib.request.urlopen(metrics_url, timeout=5) as response:
                seen["metrics"] = response.read().decode()
                break
        except OSError:
            time.sleep(0.3)
    os.kill(os.getpid(), signal.SIGTERM)


def test_devserver_serves_the_seeded_api_and_stops_on_sigterm(
    fresh_database, restored_signals, monkeypatch, capsys
):
    port, metrics_port = free_port(), free_port()
    for key, value in fresh_database.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DEV_PORT", str(port))
    monkeypatch.setenv("DEV_METRICS_PORT", str(metrics_port))
    seen: dict = {}
    watcher = threading.Thread(
        target=_stop_when_ready,
        args=(f"http://127.0.0.1:{port}/health/ready", f"http://127.0.0.1:{metrics_port}/metrics", seen),
    )
    watcher.start()

    exit_code = devserver.main()

    watcher.join()
    assert exit_code == 0
    assert seen["ready"] == {"status": "ok"}
    ready_series = '{method="GET",revision="unknown",status="200",view="health-ready"}'
    assert f"claims_api_http_requests_total{ready_series}" in seen["metrics"]
    out = capsys.readouterr().out
    assert f"Swagger UI: http://127.0.0.1:{port}/api/docs/" in out
    assert f"Redoc:      http://127.0.0.1:{port}/api/redoc/" in out
    assert f"Metrics:    http://127.0.0.1:{metrics_port}/metrics" in out
    seed = json.loads(out.split("Seed:", 1)[1].splitlines()[0])
    assert [t["name"] for t in seed["tenants"]] == ["Acme Health", "Globex Clinic"]
    with psycopg.connect(fresh_database.migration_url) as conn:
        # gunicorn served as the application role, which owns nothing.
        assert conn.execute(
            "SELECT count(*) FROM pg_tables WHERE tableowner = %s", (localdb.APPLICATION_ROLE,)
        ).fetchone() == (0,)
        # migrate_phase contract ran after expand: the renamed column's old half is gone.
        assert conn.execute(
            "SELECT 1 FROM django_migrations "
            "WHERE app = 'billing' AND name = '0005_remove_claim_denial_reason'"
        ).fetchone()
        assert not conn.execute(
            "SELECT 1 FROM information_schema.columns "
            "WHERE table_name = 'billing_claim' AND column_name = 'denial_reason'"
        ).fetchone()
