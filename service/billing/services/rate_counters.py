"""Fixed-window request counters in the database, shared by every worker and pod.

One statement per hit: the caller's own shard row is bumped (or restarted in a
new window) and the other shards of the key are summed in the same query.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import socket
import threading
import time

from django.db import connection

from config.prepared import prepared_cursor

_HIT = """
WITH hit AS (
    INSERT INTO billing_ratecounter (key, shard, "window", hits, expires_at)
    VALUES (%(key)s, %(shard)s, %(window)s, 1, %(expires)s)
    ON CONFLICT (key, shard) DO UPDATE SET
        hits = CASE WHEN billing_ratecounter."window" = EXCLUDED."window"
                    THEN billing_ratecounter.hits + 1 ELSE 1 END,
        "window" = EXCLUDED."window",
        expires_at = EXCLUDED.expires_at
    RETURNING hits
)
SELECT (SELECT hits FROM hit) + COALESCE(
    (SELECT sum(hits) FROM billing_ratecounter
     WHERE key = %(key)s AND shard <> %(shard)s AND "window" = %(window)s), 0)
"""
_SWEEP = "DELETE FROM billing_ratecounter WHERE expires_at < now()"


def _shard() -> str:
    # One row per serving thread: a row lock taken inside a request's
    # transaction is then never waited for by another request.
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{threading.get_ident()}"


def counter_key(scope: str, ident: str) -> str:
    """A fixed-length key: identities (addresses, user names) come from clients."""
    return f"{scope[:24]}:{hashlib.sha256(ident.encode()).hexdigest()[:48]}"


def rate_counter_hit(*, key: str, duration: int, now: float | None = None) -> tuple[int, float]:
    """Count one hit of `key` in its `duration`-second window.

    Returns the hits so far and the seconds until the window ends."""
    now = time.time() if now is None else now
    window = int(now // duration)
    ends = (window + 1) * duration
    expires = datetime.datetime.fromtimestamp(ends, tz=datetime.UTC)
    with prepared_cursor() as cursor:
        cursor.execute(_HIT, {"key": key, "shard": _shard(), "window": window, "expires": expires})
        (hits,) = cursor.fetchone()
    return int(hits), ends - now


def rate_counter_sweep() -> int:
    """Delete the rows of windows that have ended; returns how many."""
    with connection.cursor() as cursor:
        cursor.execute(_SWEEP)
        return cursor.rowcount
