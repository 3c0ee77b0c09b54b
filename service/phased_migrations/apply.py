"""Applying migrations one at a time with session timeouts and retries on lock timeouts."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connections
from django.db.migrations.executor import MigrationExecutor

from phased_migrations.planning import Entry
from phased_migrations.retry import backoff_delays, is_lock_timeout


@dataclass(frozen=True)
class Timeouts:
    lock: str = "5s"
    statement: str = "30min"


@dataclass
class Applied:
    entry: Entry
    seconds: float
    attempts: int
    lock_timeouts: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            **self.entry.as_json(),
            "seconds": round(self.seconds, 3),
            "attempts": self.attempts,
            "lockTimeouts": len(self.lock_timeouts),
        }


class LockRetriesExhausted(Exception):
    pass


def _set_timeouts(database: str, timeouts: Timeouts) -> None:
    """Session-level SETs: they hold for every statement the migration runs, in or out of a transaction."""
    connection = connections[database]
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('lock_timeout', %s, false)", [timeouts.lock])
        cursor.execute("SELECT set_config('statement_timeout', %s, false)", [timeouts.statement])


def apply_one(
    entry: Entry,
    *,
    database: str,
    timeouts: Timeouts,
    retries: int,
    backoff: float,
    sleep: Callable[[float], None] = time.sleep,
    log: Callable[[str], None] = lambda _: None,
) -> Applied:
    """Apply one migration, trying again after a lock timeout.

    An atomic migration is rolled back by the timeout; a non-atomic one holds
    re-runnable steps only (see `operations`), so running it again is safe.
    """
    delays = backoff_delays(retries, backoff)
    started = time.monotonic()
    lock_timeouts: list[str] = []
    for attempt in range(1, len(delays) + 2):
        connection = connections[database]
        connection.close_if_unusable_or_obsolete()
        _set_timeouts(database, timeouts)
        executor = MigrationExecutor(connection)
        migration = executor.loader.graph.nodes[entry.key]
        try:
            executor.migrate([entry.key], plan=[(migration, False)])
        except Exception as exc:
            if not is_lock_timeout(exc) or attempt > len(delays):
                if is_lock_timeout(exc):
                    raise LockRetriesExhausted(
                        f"{entry.label}: still blocked by lock_timeout={timeouts.lock} "
                        f"after {attempt} attempts; find the long transaction holding the table's lock "
                        "(pg_stat_activity) and run again."
                    ) from exc
                raise
            lock_timeouts.append(str(exc).strip())
            delay = delays[attempt - 1]
            log(f"  {entry.label}: lock timeout (attempt {attempt}); retrying in {delay:g}s")
            sleep(delay)
            continue
        return Applied(entry, time.monotonic() - started, attempt, lock_timeouts)
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover
