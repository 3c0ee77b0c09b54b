"""`python -m rollguard_loadtest.bench`: benchmark the API on a large seeded database.

Starts its own stack (a local PostgreSQL with pg_stat_statements, migrations,
`seed_demo --claims N` for each demo tenant, the service's gunicorn), then runs each scenario of
`figures.SCENARIOS` alone at fixed concurrency and writes a table, JSON and a
PNG chart to the results folder.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import psycopg

import localdb
from rollguard_loadtest import stack
from rollguard_loadtest.bench import sqlcount
from rollguard_loadtest.bench.chart import write_chart
from rollguard_loadtest.bench.figures import (
    SCENARIOS,
    EndpointFigures,
    compare_with_floor,
    figures_from_csv,
    render_table,
)
from rollguard_loadtest.locustrun import BENCH_LOCUSTFILE, locust_command, run_locust
from rollguard_loadtest.tokens import TOKENS_ENV

DATABASE = "rollguard_bench"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m rollguard_loadtest.bench", description=__doc__)
    parser.add_argument(
        "--claims-per-tenant", type=int, default=50_000, help="claims per demo tenant (default 50000)"
    )
    parser.add_argument("--users", type=int, default=20, help="concurrent users per scenario (default 20)")
    parser.add_argument("--run-time", default="60s", help="duration of each scenario (default 60s)")
    parser.add_argument("--results", type=Path, default=Path("results/bench-api"), help="output folder")
    return parser.parse_args(argv)


def tenant_fixture(url: str, tokens: list[str]) -> dict[str, Any]:
    """Each tenant's patient and payer ids, fetched once so the measured runs hold no setup request."""
    fixture: dict[str, Any] = {}
    for token in tokens:
        fixture[token] = {}
        # Closed payers refuse new claims: creation only picks active ones.
        for resource, query in (("patients", ""), ("payers", "&is_active=true")):
            request = urllib.request.Request(  # noqa: S310 (the local API)
                f"{url}/api/v1/{resource}/?page_size=100{query}", headers={"Authorization": f"Token {token}"}
            )
            with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310
                fixture[token][resource] = [row["id"] for row in json.load(resp)["results"]]
    return fixture


def count_claims(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM billing_claim").fetchone()
    return int(row[0]) if row else 0


def measure(
    api_url: str, admin_url: str, env: dict[str, str], args: argparse.Namespace
) -> list[EndpointFigures]:
    rows = []
    for scenario in SCENARIOS:
        prefix = args.results / scenario.user_class
        sqlcount.reset(admin_url)
        command = locust_command(
            host=api_url,
            users=args.users,
            spawn_rate=args.users,
            run_time=args.run_time,
            csv_prefix=prefix,
            locustfile=BENCH_LOCUSTFILE,
            user_classes=[scenario.user_class],
        )
        result = run_locust(command, env)
        if result.returncode not in (0, 1):
            raise RuntimeError(f"locust failed for {scenario.user_class}:\n{result.stderr[-3000:]}")
        queries = sqlcount.statements(admin_url, DATABASE)
        stats_csv = Path(f"{prefix}_stats.csv").read_text(encoding="utf-8")
        rows.append(figures_from_csv(scenario.label, stats_csv, queries))
        print(f"  {scenario.label}: {rows[-1].rps:.1f} req/s", flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.results.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rollguard-bench-") as tmp:
        os.chmod(tmp, 0o755)  # noqa: S103 (the unprivileged PostgreSQL user must reach its data folder)
        with localdb.running(Path(tmp) / "data") as server:
            sqlcount.enable(server)
            database_url = server.create_database(DATABASE)
            started = time.monotonic()
            stack.manage(database_url, "migrate", "--noinput")
            seed = stack.seed_demo(database_url, "--claims", str(args.claims_per_tenant))
            seeded_in = time.monotonic() - started
            claims = count_claims(database_url)
            print(f"migrated and seeded {claims:,} claims in {seeded_in:.0f}s", flush=True)
            tokens = [tenant["token"] for tenant in seed["tenants"]]
            with stack.gunicorn(
                database_url, port=localdb.free_port(), log_file=args.results / "gunicorn.log"
            ) as api:
                stack.warm_up(api.url, tokens)
                fixture_file = Path(tmp) / "fixture.json"
                fixture_file.write_text(json.dumps(tenant_fixture(api.url, tokens)), encoding="utf-8")
                env = dict(os.environ, ROLLGUARD_BENCH_FIXTURE=str(fixture_file))
                env[TOKENS_ENV] = ",".join(tokens)
                rows = measure(api.url, server.url(), env, args)
    compared = compare_with_floor(rows)
    title = f"rollguard API, {claims:,} claims, {args.users} users, {args.run_time} per endpoint"
    report = {
        "claims": claims,
        "users": args.users,
        "runTime": args.run_time,
        "tenants": len(tokens),
        "seedSeconds": round(seeded_in, 1),
        "cpus": os.cpu_count(),
        "endpoints": compared,
    }
    (args.results / "bench-api.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    write_chart(compared, args.results / "bench-api.png", title)
    print(f"\n{title}\n{render_table(compared)}")
    print(f"\nwrote {args.results}/bench-api.json and bench-api.png")
    return 1 if any(row.failures for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
