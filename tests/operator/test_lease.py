"""Leader election's rules, pure: who may take the Lease, what a renewal writes, sane durations."""

from __future__ import annotations

import datetime

import pytest

from rollguard.lease import Timing, lease_spec, may_take, micro_time, record_of, released_spec

NOW = datetime.datetime(2026, 12, 2, 4, 0, 0, 123456, tzinfo=datetime.UTC)


def lease(holder: str | None, renewed: str = "2026-12-02T03:59:59.000000Z", transitions: int = 0) -> dict:
    spec = {"renewTime": renewed, "acquireTime": renewed, "leaseTransitions": transitions}
    if holder:
        spec["holderIdentity"] = holder
    return {"metadata": {"name": "rollguard-operator", "resourceVersion": "7"}, "spec": spec}


@pytest.mark.parametrize(
    ("current", "seen_for", "allowed"),
    [
        (None, 0.0, True),  # no Lease yet
        (lease(None), 0.0, True),  # released by a clean shutdown
        (lease("a"), 0.0, True),  # ours: renew
        (lease("b"), 14.9, False),  # another's, renewed less than a lease duration ago
        (lease("b"), 15.0, True),  # another's, unchanged for a whole lease duration: expired
    ],
)
def test_a_candidate_takes_only_a_free_own_or_expired_lease(current, seen_for, allowed):
    assert may_take(current, "a", observed_at=100.0, now=100.0 + seen_for, lease_duration=15.0) is allowed


def test_a_renewal_is_a_new_record_which_restarts_the_standbys_wait():
    before = lease("b", renewed="2026-12-02T03:59:58.000000Z")
    after = lease("b", renewed="2026-12-02T04:00:00.000000Z")

    assert record_of(before) != record_of(after)
    assert record_of(before) == record_of(lease("b", renewed="2026-12-02T03:59:58.000000Z"))


def test_taking_over_counts_a_transition_and_sets_the_acquire_time():
    spec = lease_spec(lease("b", transitions=2), "a", now=NOW, lease_duration=15.0)

    assert spec["holderIdentity"] == "a"
    assert spec["leaseTransitions"] == 3
    assert spec["acquireTime"] == spec["renewTime"] == "2026-12-02T04:00:00.123456Z"
    assert spec["leaseDurationSeconds"] == 15


def test_renewing_keeps_the_acquire_time_and_the_transitions():
    spec = lease_spec(lease("a", transitions=2), "a", now=NOW, lease_duration=15.0)

    assert spec["acquireTime"] == "2026-12-02T03:59:59.000000Z"
    assert spec["renewTime"] == micro_time(NOW)
    assert spec["leaseTransitions"] == 2


def test_the_first_holder_is_no_transition():
    assert lease_spec(None, "a", now=NOW, lease_duration=15.0)["leaseTransitions"] == 0


def test_only_the_holder_releases_the_lease():
    assert released_spec(lease("a"), "a")["holderIdentity"] is None
    assert released_spec(lease("b"), "a") is None


@pytest.mark.parametrize(
    ("timing", "problem"),
    [
        (Timing(), None),
        (Timing(2.0, 1.5, 0.25), None),
        (Timing(10.0, 10.0, 2.0), "longer than the renew deadline"),
        (Timing(15.0, 2.0, 2.0), "1.2 x the retry period"),
        (Timing(15.0, 10.0, 0.0), "positive"),
    ],
)
def test_durations_that_cannot_keep_one_leader_are_refused(timing, problem):
    found = timing.problem()

    assert (found is None) if problem is None else (problem in (found or ""))


def test_the_defaults_are_controller_runtimes():
    assert (Timing().lease_duration, Timing().renew_deadline, Timing().retry_period) == (15.0, 10.0, 2.0)
