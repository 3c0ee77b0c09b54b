"""`python -m rollguard_loadtest.bench`: benchmark the API on a large seeded database, at several sizes.

Starts its own stack (a local PostgreSQL with pg_stat_statements, migrations,
`seed_demo --claims N` for each demo tenant, the service's gunicorn serving as
the application role behind row-level security). For each
size (claims per tenant, smallest first) it tops the tenants up to that size,
runs VACUUM (ANALYZE) as after any bulk load,
counts what each endpoint would cost written the naive DRF way
(`bench.naive`), then runs each scenario of `figures.SCENARIOS` alone at fixed
concurrency, then counts its statements one request at a time (`bench.probe`,
at page sizes 1 and 100). It writes a table, JSON and a PNG chart to the results folder and
lists every target missed (`figures.Targets`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict
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
    Targets,
    compare_with_floor,
    cost_ratios,
    figures_from_csv,
    missed_targets,
    render_table,
)
from rollguard_loadtest.bench.probe import statements_per_request
from rollguard_loadtest.locustrun import BENCH_LOCUSTFILE, locust_command, run_locust
from rollguard_loadtest.tokens import TOKENS_ENV

DATABASE = "rollguard_bench"
# The serving settings a run was measured with, when set (see service/gunicorn.conf.py).
GUNICORN_ENV = ("GUNICORN_WORKERS", "WEB_CONCURRENCY", "GUNICORN_THREADS", "GUNICORN_WORKER_CLASS")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m rollguard_loadtest.bench", description=__doc__)
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=[100_000, 1_000_000],
        help="claims per demo tenant to measure at, comma-separated (default 100000,1000000)",
    )
    parser.add_argument("--users", type=int, default=20, help="concurrent users per scenario (default 20)")
    parser.add_argument("--run-time", default="60s", help="duration of each scenario (default 60s)")
    parser.add_argument("--results", type=Path, default=Path("results/bench-api"), help="output folder")
    return parser.parse_args(argv)


def _sizes(text: str) -> list[int]:
    sizes = sorted(int(part) for part in text.split(",") if part.strip())
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError(f"sizes must be positive whole numbers, got {text!r}")
    return sizes


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


def vacuum_analyze(database_url: str) -> float:
    """VACUUM ANALYZE the freshly seeded database, as after any bulk load; its seconds.

    Without it the planner's statistics of a just-seeded table are whatever
    autovacuum reached by then: one run measured the claims list at 60 req/s
    (PostgreSQL's CPU 25 ms a request) before autovacuum's ANALYZE, 240 after."""
    started = time.monotonic()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    return time.monotonic() - started


def naive_queries(database_url: str) -> dict[str, int]:
    """`bench.naive` run against the benchmark's database, in a process of its own (it sets up Django).

    As the owner: the naive views set no tenant for row-level security."""
    result = subprocess.run(
        [sys.executable, "-m", "rollguard_loadtest.bench.naive"],
        cwd=stack.SERVICE_DIR,
        env=stack.service_env(database_url, DJANGO_SETTINGS_MODULE="config.settings"),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"the naive query count failed:\n{result.stderr[-3000:]}")
    counts: dict[str, int] = json.loads(result.stdout.strip().splitlines()[-1])
    return counts


def measure(
    api_url: str,
    admin_url: str,
    env: dict[str, str],
    args: argparse.Namespace,
    *,
    size: int,
    naive: dict[str, int],
    fixture: dict[str, Any],
) -> list[EndpointFigures]:
    rows = []
    token = next(iter(fixture))
    for scenario in SCENARIOS:
        prefix = args.results / f"{size}-{scenario.user_class}"
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
        queries = (
            statements_per_request(
                api_url, admin_url, DATABASE, scenario.probe, token=token, fixture=fixture[token]
            )
            if scenario.probe
            else None
        )
        stats_csv = Path(f"{prefix}_stats.csv").read_text(encoding="utf-8")
        rows.append(
            figures_from_csv(
                scenario.label, stats_csv, queries, naive_queries=naive.get(scenario.user_class), size=size
            )
        )
        print(f"  {size:,} claims/tenant, {scenario.label}: {rows[-1].rps:.1f} req/s", flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.results.mkdir(parents=True, exist_ok=True)
    rows: list[EndpointFigures] = []
    seeding: dict[str, float] = {}
    vacuumed: dict[str, float] = {}
    claims: dict[str, int] = {}
    started_run = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="rollguard-bench-") as tmp:
        os.chmod(tmp, 0o755)  # noqa: S103 (the unprivileged PostgreSQL user must reach its data folder)
        with localdb.running(Path(tmp) / "data") as server:
            sqlcount.enable(server)
            # Served as production serves it: the application role, behind row-level
            # security; the owner migrates and seeds (config.databases.OWNER_COMMANDS).
            roles = localdb.provision_roles(server.url(), DATABASE)
            os.environ["MIGRATION_DATABASE_URL"] = roles.migration_url
            database_url = roles.application_url
            stack.manage(database_url, "migrate", "--noinput")
            for size in args.sizes:
                started = time.monotonic()
                seed = stack.seed_demo(database_url, "--claims", str(size))
                seeding[str(size)] = round(time.monotonic() - started, 1)
                claims[str(size)] = count_claims(roles.migration_url)
                print(f"seeded {claims[str(size)]:,} claims in all in {seeding[str(size)]:.0f}s", flush=True)
                vacuumed[str(size)] = round(vacuum_analyze(roles.migration_url), 1)
                print(f"VACUUM (ANALYZE) in {vacuumed[str(size)]:.0f}s", flush=True)
                naive = naive_queries(roles.migration_url)
                tokens = [tenant["token"] for tenant in seed["tenants"]]
                with stack.gunicorn(
                    database_url, port=localdb.free_port(), log_file=args.results / f"gunicorn-{size}.log"
                ) as api:
                    stack.warm_up(api.url, tokens)
                    fixture = tenant_fixture(api.url, tokens)
                    fixture_file = Path(tmp) / "fixture.json"
                    fixture_file.write_text(json.dumps(fixture), encoding="utf-8")
                    env = dict(os.environ, ROLLGUARD_BENCH_FIXTURE=str(fixture_file))
                    env[TOKENS_ENV] = ",".join(tokens)
                    rows += measure(api.url, server.url(), env, args, size=size, naive=naive, fixture=fixture)
    compared = compare_with_floor(rows)
    ratios = cost_ratios(rows)
    missed = missed_targets(compared, ratios)
    sizes = ", ".join(f"{size:,}" for size in args.sizes)
    title = f"rollguard API, {sizes} claims per tenant, {args.users} users, {args.run_time} per endpoint"
    report = {
        "sizes": args.sizes,
        "claims": claims,
        "users": args.users,
        "runTime": args.run_time,
        "tenants": len(tokens),
        "seedSeconds": seeding,
        "vacuumAnalyzeSeconds": vacuumed,
        "runSeconds": round(time.monotonic() - started_run, 1),
        "cpus": os.cpu_count(),
        "gunicorn": {name: os.environ[name] for name in GUNICORN_ENV if name in os.environ},
        "endpoints": compared,
        "cost_ratio_1m_over_100k": ratios,
        "targets": asdict(Targets()),
        "missed": missed,
    }
    (args.results / "bench-api.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    write_chart(
        [row for row in compared if row["size"] == args.sizes[0]], args.results / "bench-api.png", title
    )
    print(f"\n{title}\n{render_table(compared, ratios)}")
    print("\ntargets: " + ("all met" if not missed else "MISSED\n  " + "\n  ".join(missed)))
    print(f"\nwrote {args.results}/bench-api.json and bench-api.png")
    return 1 if any(row.failures for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
