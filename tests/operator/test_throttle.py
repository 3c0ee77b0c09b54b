"""The client's pacing as pure arithmetic: the token bucket, backoff with jitter, Retry-After."""

from __future__ import annotations

import pytest

from rollguard.throttle import (
    BACKOFF_CAP_SECONDS,
    RETRY_AFTER_CAP_SECONDS,
    TokenBucket,
    backoff_delay,
    retry_after,
)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_goes_out_at_once_then_requests_are_spaced_by_the_rate():
    clock = Clock()
    bucket = TokenBucket(qps=10, burst=3, clock=clock)

    waits = [bucket.reserve() for _ in range(5)]

    assert waits == pytest.approx([0, 0, 0, 0.1, 0.2])


def test_tokens_saved_while_idle_never_exceed_the_burst():
    clock = Clock()
    bucket = TokenBucket(qps=5, burst=2, clock=clock)
    [bucket.reserve() for _ in range(2)]
    clock.now += 60

    waits = [bucket.reserve() for _ in range(3)]

    assert waits == pytest.approx([0, 0, 0.2])


def test_the_sustained_rate_is_the_qps():
    clock = Clock()
    bucket = TokenBucket(qps=20, burst=1, clock=clock)
    sent = 0
    for _ in range(1000):
        wait = bucket.reserve()
        clock.now += wait  # the caller sleeps, then sends
        sent += 1

    assert sent / (clock.now - 100.0) == pytest.approx(20, rel=0.01)


@pytest.mark.parametrize(("qps", "burst"), [(0, 1), (-1, 5), (10, 0)])
def test_a_limit_that_allows_nothing_is_refused(qps, burst):
    with pytest.raises(ValueError, match="qps > 0"):
        TokenBucket(qps=qps, burst=burst)


@pytest.mark.parametrize("attempt", range(8))
def test_backoff_doubles_with_jitter_within_half_and_whole_of_its_ceiling(attempt):
    ceiling = min(BACKOFF_CAP_SECONDS, 0.2 * 2**attempt)

    assert backoff_delay(attempt, rand=lambda: 0.0) == pytest.approx(ceiling / 2)
    assert backoff_delay(attempt, rand=lambda: 1.0) == pytest.approx(ceiling)


def test_backoff_jitter_spreads_clients_refused_together():
    import random

    source = random.Random(7)
    delays = {round(backoff_delay(3, rand=source.random), 3) for _ in range(50)}

    assert len(delays) > 40


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("3", 3.0),
        ("0.5", 0.5),
        (" 2 ", 2.0),
        ("-4", 0.0),
        ("86400", RETRY_AFTER_CAP_SECONDS),
        ("Wed, 02 Dec 2026 04:00:10 GMT", 10.0),
        (None, None),
        ("", None),
        ("soon", None),
    ],
)
def test_retry_after_reads_seconds_and_http_dates(header, seconds):
    now = 1796184000.0  # Wed, 02 Dec 2026 04:00:00 GMT

    assert retry_after(header, now=lambda: now) == (pytest.approx(seconds) if seconds is not None else None)
