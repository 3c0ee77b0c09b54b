"""Leader election over a `coordination.k8s.io` Lease, as client-go does it: the pure rules.

A candidate never trusts another process's clock: it notes, on its own
monotonic clock, when it last saw the Lease record change, and may take the
Lease only once that record has stayed unchanged for a whole lease duration.
A leader acts only while its last successful renewal is younger than the renew
deadline, which is shorter than the lease duration: a leader cut off from the
API server stops writing before any standby may take over.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# controller-runtime's defaults.
LEASE_DURATION = 15.0
RENEW_DEADLINE = 10.0
RETRY_PERIOD = 2.0
# client-go's JitterFactor: the renew deadline must leave room for a retry with jitter.
JITTER = 1.2


@dataclass(frozen=True)
class Timing:
    lease_duration: float = LEASE_DURATION
    renew_deadline: float = RENEW_DEADLINE
    retry_period: float = RETRY_PERIOD

    def problem(self) -> str | None:
        """Why these durations cannot guarantee a single leader, or None."""
        if self.lease_duration <= self.renew_deadline:
            return "the lease duration must be longer than the renew deadline"
        if self.renew_deadline <= JITTER * self.retry_period:
            return f"the renew deadline must be longer than {JITTER} x the retry period"
        if self.retry_period <= 0:
            return "the retry period must be positive"
        return None


def micro_time(moment: datetime.datetime) -> str:
    """A `metav1.MicroTime`."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_of(lease: Mapping[str, Any] | None) -> tuple[str, str, str]:
    """What identifies one renewal: (holder, renewTime, acquireTime); equal records, no renewal."""
    spec = (lease or {}).get("spec") or {}
    return (
        str(spec.get("holderIdentity") or ""),
        str(spec.get("renewTime") or ""),
        str(spec.get("acquireTime") or ""),
    )


def holder_of(lease: Mapping[str, Any] | None) -> str:
    return record_of(lease)[0]


def may_take(
    lease: Mapping[str, Any] | None,
    identity: str,
    *,
    observed_at: float,
    now: float,
    lease_duration: float,
) -> bool:
    """Whether `identity` may write itself into the Lease: it is free, already ours, or its record
    has not changed for a whole lease duration since we first saw it (`observed_at`, our clock)."""
    holder = holder_of(lease)
    return not holder or holder == identity or now - observed_at >= lease_duration


def lease_spec(
    lease: Mapping[str, Any] | None, identity: str, *, now: datetime.datetime, lease_duration: float
) -> dict[str, Any]:
    """The Lease spec that makes `identity` the holder, renewed `now`."""
    spec = dict((lease or {}).get("spec") or {})
    transitions = int(spec.get("leaseTransitions") or 0)
    if spec.get("holderIdentity") != identity:
        spec["acquireTime"] = micro_time(now)
        if spec.get("holderIdentity"):
            transitions += 1
    spec.update(
        holderIdentity=identity,
        leaseDurationSeconds=max(1, round(lease_duration)),
        renewTime=micro_time(now),
        leaseTransitions=transitions,
    )
    return spec


def released_spec(lease: Mapping[str, Any], identity: str) -> dict[str, Any] | None:
    """The spec that gives the Lease up on a clean shutdown, so a standby takes over at once;
    None when someone else holds it."""
    if holder_of(lease) != identity:
        return None
    spec = dict(lease.get("spec") or {})
    spec.update(holderIdentity=None, leaseDurationSeconds=1)
    return spec
