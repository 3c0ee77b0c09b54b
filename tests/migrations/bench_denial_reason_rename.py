"""Benchmark: renaming `Claim.denial_reason` naively and phased, while the previous release writes.

    python tests/migrations/bench_denial_reason_rename.py   # or: make bench-rename

For each table size (BENCH_ROWS, comma-separated, default 1000000) a template
database is migrated to billing 0002 (the previous release) and filled; then,
on a copy each:

- naive: one transaction adding the new column and copying every row with one
  UPDATE, as a hand-written data migration would;
- phased: `migrate_phase expand` (billing 0003 and 0004: catalog changes, the
  sync trigger, then a backfill in batches of 5,000 rows).

A writer plays the previous release the whole time: it inserts claims and
denies existing ones, naming only `denial_reason`. The longest single write is
the write stall. Uses DATABASE_URL's server, or starts an embedded PostgreSQL.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

import localdb

SERVICE = Path(__file__).resolve().parents[2] / "service"


def manage(url: str, *args: str) -> str:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONWARNINGS": "ignore",
    }
    done = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args],
        cwd=SERVICE,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(
            f"manage.py {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
        )
    return done.stdout


_FILL = """
INSERT INTO billing_customer (name, last_claim_number, created_at) VALUES ('Bench Health', 0, now());
INSERT INTO billing_payer (code, name, is_active) VALUES ('BENCH', 'Bench Payer', true);
INSERT INTO billing_patient (customer_id, first_name, last_name, date_of_birth, member_id, created_at, updated_at)
    SELECT id, 'Ada', 'Lovelace', '1970-01-01', '', now(), now() FROM billing_customer;
INSERT INTO billing_claim (customer_id, number, patient_id, payer_id, billed_amount, paid_amount,
                           service_date, status, denial_reason, created_at, updated_at)
    SELECT c.id, g, p.id, y.id, 100, 0, '2026-01-05',
           CASE WHEN g % 5 = 0 THEN 'denied' ELSE 'submitted' END,
           CASE WHEN g % 5 = 0 THEN 'Not covered by plan' ELSE '' END, now(), now()
    FROM billing_customer c, billing_patient p, billing_payer y, generate_series(1, {rows}) AS g;
ANALYZE billing_claim;
"""


@dataclass(eq=False)
class PreviousReleaseWriter(threading.Thread):
    """Inserts and denies claims naming only `denial_reason`, one statement per transaction."""

    url: str
    rows: int
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(daemon=True)
        self.stopping = threading.Event()

    def _write(self, conn: psycopg.Connection[Any], sequence: int, rng: random.Random) -> None:
        if sequence % 2:
            conn.execute(
                "INSERT INTO billing_claim (customer_id, number, patient_id, payer_id, billed_amount, "
                "paid_amount, service_date, status, denial_reason, created_at, updated_at) "
                "SELECT customer_id, %s, patient_id, payer_id, 100, 0, service_date, 'denied', 'Duplicate', "
                "now(), now() FROM billing_claim WHERE id = 1",
                (10_000_000_000 + sequence,),
            )
        else:
            conn.execute(
                "UPDATE billing_claim SET status = 'denied', denial_reason = 'Late filing', updated_at = now() "
                "WHERE id = %s",
                (rng.randint(1, self.rows),),
            )

    def run(self) -> None:
        rng = random.Random(7)  # noqa: S311 - picks rows, not secrets
        with psycopg.connect(self.url, autocommit=True) as conn:
            sequence = 0
            while not self.stopping.is_set():
                sequence += 1
                started = time.monotonic()
                try:
                    self._write(conn, sequence, rng)
                except psycopg.Error as exc:
                    self.errors.append(str(exc).strip())
                self.latencies.append(time.monotonic() - started)
                time.sleep(0.002)

    def __enter__(self) -> PreviousReleaseWriter:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stopping.set()
        self.join(timeout=60)


def naive(url: str) -> float:
    started = time.monotonic()
    with psycopg.connect(url) as conn, conn.transaction():
        conn.execute(
            "ALTER TABLE billing_claim ADD COLUMN denial_reason_text varchar(500) DEFAULT '' NOT NULL"
        )
        conn.execute("UPDATE billing_claim SET denial_reason_text = denial_reason")
    return time.monotonic() - started


def phased(url: str) -> float:
    report = json.loads(manage(url, "migrate_phase", "expand", "--json").strip().splitlines()[-1])
    return sum(float(m["seconds"]) for m in report["applied"])


def measure(
    admin: psycopg.Connection[Any], url: str, template: str, rows: int, mode: str
) -> dict[str, float]:
    name = f"bench_rename_{mode}"
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    target = localdb.database_url(url, name)
    try:
        with PreviousReleaseWriter(target, rows) as writer:
            time.sleep(0.5)
            seconds = naive(target) if mode == "naive" else phased(target)
            time.sleep(0.5)
        if writer.errors:
            raise RuntimeError(f"{mode}: {len(writer.errors)} writes failed: {writer.errors[0]}")
        return {
            "seconds": seconds,
            "longestStallMs": max(writer.latencies) * 1000,
            "writes": len(writer.latencies),
        }
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    sizes = [int(n) for n in os.environ.get("BENCH_ROWS", "1000000").split(",") if n]
    results = []
    with localdb.server_url(prefix="rollguard-bench-") as url, psycopg.connect(url, autocommit=True) as admin:
        for rows in sizes:
            template = f"bench_rename_template_{rows}"
            admin.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{template}"')
            try:
                # Every other app up to date, as in production; billing where the previous release left it.
                for app, target in (
                    ("contenttypes", None),
                    ("auth", None),
                    ("knox", None),
                    ("billing", "0002"),
                ):
                    manage(
                        localdb.database_url(url, template),
                        "migrate",
                        app,
                        *filter(None, [target]),
                        "--no-input",
                    )
                with psycopg.connect(localdb.database_url(url, template), autocommit=True) as conn:
                    conn.execute(_FILL.format(rows=int(rows)).encode())
                found = {mode: measure(admin, url, template, rows, mode) for mode in ("naive", "phased")}
            finally:
                admin.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
            results.append({"rows": rows, **found})
            for mode, figures in found.items():
                print(
                    f"{rows:>9} rows  {mode:<6}  longest write stall {figures['longestStallMs']:9.1f} ms  "
                    f"migration {figures['seconds']:7.2f} s  ({figures['writes']:.0f} writes)"
                )
    out = Path(os.environ.get("RESULTS", "results")) / "bench-rename.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
