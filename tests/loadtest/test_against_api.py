"""The load test against the real API: gunicorn with the service's config on a real PostgreSQL."""

import csv
import json
import os
import uuid

import psycopg
import pytest

import localdb
from rollguard_loadtest import stack
from rollguard_loadtest.locustrun import locust_command, run_locust

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not stack.service_ready(),
        reason="the service is not in this checkout yet: needs manage.py, config/wsgi.py, gunicorn.conf.py",
    ),
]

TASK_NAMES = {
    "/api/v1/claims/?[filters]",
    "/api/v1/claims/[id]/",
    "/api/v1/claims/",
    "/api/v1/claims/[id]/transition/",
    "/api/v1/patients/",
    "/api/v1/payers/",
    "/api/v1/payers/summary/",
    "/api/v1/payers/active/",
    "/api/v1/audit-events/",
    "/health/ready",
}


@pytest.fixture(scope="module")
def seeded_api(postgres_url, tmp_path_factory):
    name = f"loadtest_{uuid.uuid4().hex[:8]}"
    database_url = stack.create_database(postgres_url, name)
    try:
        stack.manage(database_url, "migrate", "--noinput")
        seed = stack.seed_demo(database_url, "--claims", "400", "--patients", "40")
        log_file = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
        with stack.gunicorn(database_url, port=localdb.free_port(), log_file=log_file) as api:
            tokens = [tenant["token"] for tenant in seed["tenants"]]
            stack.warm_up(api.url, tokens)
            yield api, database_url, tokens
    finally:
        stack.drop_database(postgres_url, name)


def test_default_load_passes_the_gate_without_server_errors(seeded_api, tmp_path):
    api, database_url, tokens = seeded_api
    env = dict(
        os.environ,
        ROLLGUARD_API_TOKENS=",".join(tokens),
        ROLLGUARD_RESULTS_DIR=str(tmp_path),
        ROLLGUARD_TERMINATION_LOG=str(tmp_path / "termination-log"),
    )
    command = locust_command(
        host=api.url,
        # Enough users that every one of the ten tasks runs within the 20 seconds.
        users=10,
        spawn_rate=2,
        run_time="20s",
        csv_prefix=tmp_path / "locust",
        html=tmp_path / "report.html",
    )
    result = run_locust(command, env, timeout=120)

    summary = json.loads((tmp_path / "summary.json").read_text())
    assert result.returncode == 0, (summary, result.stderr[-3000:])
    assert summary["verdict"] == "passed"
    assert summary["reasons"] == []
    assert summary["failures"] == 0
    assert summary["requests"] >= 100
    assert summary["p95Ms"] <= 500
    assert json.loads((tmp_path / "termination-log").read_text()) == summary

    with open(tmp_path / "locust_stats.csv") as stats_file:
        rows = {row["Name"]: row for row in csv.DictReader(stats_file)}
    assert set(rows) >= TASK_NAMES, sorted(TASK_NAMES - set(rows))
    assert all(row["Failure Count"] == "0" for row in rows.values())
    with open(tmp_path / "locust_failures.csv") as failures_file:
        assert list(csv.DictReader(failures_file)) == []
    assert (tmp_path / "report.html").stat().st_size > 0

    # One token per tenant: every tenant's audit trail shows the simulated staff at work.
    with psycopg.connect(database_url) as conn:
        per_tenant = conn.execute(
            "SELECT customer_id, count(*) FROM billing_auditevent GROUP BY customer_id"
        ).fetchall()
    assert len(per_tenant) == len(tokens)
    assert all(count > 0 for _, count in per_tenant)
