"""A client that keeps writing while a migration runs, timing every statement."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import psycopg


@dataclass(eq=False)
class Writer(threading.Thread):
    """Inserts claims with fresh keys, one statement per transaction, until stopped."""

    url: str
    table: str = "claims_claim"
    customer_id: int = 900_000_000
    latencies: list[float] = field(default_factory=list)
    started_at: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(daemon=True)
        self.stopping = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            sequence = 0
            while not self.stopping.is_set():
                sequence += 1
                started = time.monotonic()
                try:
                    conn.execute(
                        f"INSERT INTO {self.table} (customer_id, number, amount_cents) VALUES (%s, %s, 100)",  # noqa: S608
                        (self.customer_id, f"W-{sequence}"),
                    )
                except psycopg.Error as exc:
                    self.errors.append(str(exc))
                self.started_at.append(started)
                self.latencies.append(time.monotonic() - started)
                time.sleep(0.002)

    def stop(self) -> Writer:
        self.stopping.set()
        self.join(timeout=30)
        return self

    def writes_between(self, start: float, end: float) -> int:
        return sum(start <= moment <= end for moment in self.started_at)

    @property
    def longest_stall(self) -> float:
        return max(self.latencies, default=0.0)

    def __enter__(self) -> Writer:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def fill_claims(conn: psycopg.Connection[Any], rows: int, table: str = "claims_claim") -> None:
    """`rows` distinct (customer_id, number) keys in one INSERT ... SELECT."""
    conn.execute(
        f"INSERT INTO {table} (customer_id, number, amount_cents) "  # noqa: S608
        "SELECT g %% 5000, 'CLM-' || g, g %% 100000 FROM generate_series(1, %s) AS g",
        (rows,),
    )
    conn.execute(f"ANALYZE {table}")
