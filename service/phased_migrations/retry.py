"""Retrying DDL that lost the race for a lock. Pure: no database."""

from __future__ import annotations

# SQLSTATE 55P03 lock_not_available is what lock_timeout raises.
LOCK_NOT_AVAILABLE = "55P03"
QUERY_CANCELED = "57014"


def backoff_delays(retries: int, base: float, cap: float = 60.0) -> list[float]:
    """Seconds to wait before each retry: base, 2*base, 4*base, ... never above `cap`."""
    return [min(cap, base * 2**attempt) for attempt in range(max(0, retries))]


def is_lock_timeout(exc: BaseException | None) -> bool:
    """Whether `exc` (or an exception it wraps) is a statement cancelled by lock_timeout.

    A statement_timeout is not retried: the same statement would only time out again.
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        state = getattr(exc, "sqlstate", None)
        if state == LOCK_NOT_AVAILABLE:
            return True
        if state == QUERY_CANCELED and "lock timeout" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False
