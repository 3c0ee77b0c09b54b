"""How the client paces itself: a token bucket (QPS and burst), `Retry-After`, and backoff with jitter.

Pure arithmetic over an injected clock and random source, so that the client's
politeness towards the API server is unit-tested without a server.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable

# Retries of one request after a 429 or a 5xx before the error goes to the caller.
MAX_RETRIES = 5
BACKOFF_BASE_SECONDS = 0.2
BACKOFF_CAP_SECONDS = 10.0
# The longest Retry-After honoured; a longer one is capped (the caller retries later anyway).
RETRY_AFTER_CAP_SECONDS = 60.0


class TokenBucket:
    """client-go's flowcontrol limiter: `qps` tokens a second, at most `burst` saved up.

    `reserve()` takes a token and says how long to wait before using it, so that
    concurrent callers queue up in order instead of all waking at once."""

    def __init__(self, qps: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        if qps <= 0 or burst < 1:
            raise ValueError(f"a rate limit needs qps > 0 and burst >= 1, not qps={qps} burst={burst}")
        self.qps = qps
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._stamp = clock()

    def reserve(self) -> float:
        """Take one token; the seconds to wait before the request may go out (0 when one is saved)."""
        now = self._clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._stamp) * self.qps)
        self._stamp = now
        self._tokens -= 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self.qps


def backoff_delay(
    attempt: int,
    *,
    base: float = BACKOFF_BASE_SECONDS,
    cap: float = BACKOFF_CAP_SECONDS,
    rand: Callable[[], float] = random.random,
) -> float:
    """Exponential backoff with jitter for retry `attempt` (0, 1, 2, ...): a random delay in
    [d/2, d] with d = min(cap, base * 2**attempt), so that clients refused together do not
    come back together."""
    ceiling = min(cap, base * 2.0 ** max(0, attempt))
    return ceiling / 2 + rand() * ceiling / 2


def retry_after(value: str | None, *, now: Callable[[], float] = time.time) -> float | None:
    """The seconds a `Retry-After` header asks for (delta-seconds or an HTTP date), capped;
    None when absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - now()
    return max(0.0, min(RETRY_AFTER_CAP_SECONDS, seconds))
