"""The kubelet's crash-loop back-off: how long a crashed container waits before its next start."""

from __future__ import annotations

DEFAULT_BASE_SECONDS = 10.0
DEFAULT_CAP_SECONDS = 300.0
# A container that ran this long without crashing starts its back-off over.
RESET_AFTER_SECONDS = 600.0


def crash_backoff(
    restart_count: int, *, base: float = DEFAULT_BASE_SECONDS, cap: float = DEFAULT_CAP_SECONDS
) -> float:
    """Seconds to wait before restart number `restart_count + 1`: base, doubled per restart, capped."""
    if restart_count < 0:
        raise ValueError(f"restart_count must be >= 0, got {restart_count}")
    return min(cap, base * (2 ** min(restart_count, 30)))


def should_reset(ran_for: float, *, reset_after: float = RESET_AFTER_SECONDS) -> bool:
    return ran_for >= reset_after
