"""Benchmark: the claim-number unique constraint built naively and phased, under a concurrent writer.

    python tests/migrations/bench_claim_number.py        # or: make bench-migrations

For each table size (BENCH_ROWS, comma-separated, default 1000000,5000000) a
template database is migrated to claims 0001 and filled; then, on a copy each:

- naive: ALTER TABLE ... ADD CONSTRAINT ... UNIQUE, what Django's AddConstraint runs;
- phased: `migrate_phase expand`, which runs claims 0002 (index built
  CONCURRENTLY, then attached with UNIQUE USING INDEX).

A writer inserts claims the whole time; the longest single insert is the write
stall. Uses DATABASE_URL's server, or starts an embedded PostgreSQL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from phased_writer import Writer, fill_claims

import localdb

HERE = Path(__file__).parent


def django(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
        "DJANGO_SETTINGS_MODULE": "phased_settings",
        "DATABASE_URL": url,
        "PM_APPS": "claims",
        "PYTHONWARNINGS": "ignore",
    }
    return subprocess.run(
        [sys.executable, "-m", "django", *args], env=env, capture_output=True, text=True, check=True
    )


def naive(url: str) -> float:
    started = time.monotonic()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            'ALTER TABLE "claims_claim" ADD CONSTRAINT "claims_claim_number_uniq" UNIQUE ("customer_id", "number")'
        )
    return time.monotonic() - started


def phased(url: str) -> float:
    report = json.loads(django(url, "migrate_phase", "expand", "--json").stdout.strip().splitlines()[-1])
    [build] = [m for m in report["applied"] if m["name"] == "0002_claim_number_unique"]
    return float(build["seconds"])


def measure(admin: psycopg.Connection, url: str, template: str, mode: str) -> dict[str, float]:
    name = f"bench_{mode}"
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    target = localdb.database_url(url, name)
    try:
        with Writer(target) as writer:
            time.sleep(0.5)
            seconds = naive(target) if mode == "naive" else phased(target)
            time.sleep(0.5)
        if writer.errors:
            raise RuntimeError(f"{mode}: {len(writer.errors)} inserts failed: {writer.errors[0]}")
        return {
            "seconds": seconds,
            "longestStallMs": writer.longest_stall * 1000,
            "writes": len(writer.latencies),
        }
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    sizes = [int(n) for n in os.environ.get("BENCH_ROWS", "1000000,5000000").split(",") if n]
    results = []
    with localdb.server_url(prefix="rollguard-bench-") as url, psycopg.connect(url, autocommit=True) as admin:
        for rows in sizes:
            template = f"bench_template_{rows}"
            admin.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{template}"')
            django(localdb.database_url(url, template), "migrate", "claims", "0001_initial", "--no-input")
            with psycopg.connect(localdb.database_url(url, template), autocommit=True) as conn:
                fill_claims(conn, rows)
            try:
                found = {mode: measure(admin, url, template, mode) for mode in ("naive", "phased")}
            finally:
                admin.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
            ratio = found["naive"]["longestStallMs"] / max(found["phased"]["longestStallMs"], 0.001)
            results.append({"rows": rows, **found, "stallRatio": ratio})
            for mode in ("naive", "phased"):
                figures = found[mode]
                print(
                    f"{rows:>9} rows  {mode:<6}  longest write stall {figures['longestStallMs']:9.1f} ms  "
                    f"build {figures['seconds']:7.2f} s  ({figures['writes']:.0f} writes)"
                )
            print(f"{rows:>9} rows  stall ratio naive/phased: {ratio:.0f}x")
    out = Path(os.environ.get("RESULTS", "results")) / "bench-migrations.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
