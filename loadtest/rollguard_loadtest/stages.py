"""Load stages as data: named profiles of (duration, users, spawn rate) steps.

A plain run uses Locust's `--users/--spawn-rate/--run-time` as the operator
passes them. Setting ROLLGUARD_STAGES to a profile name switches the locustfile
to a stepped shape instead (warm up, hold, peak, cool down), for soak and
capacity runs by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

STAGES_ENV = "ROLLGUARD_STAGES"


@dataclass(frozen=True)
class Stage:
    """Hold `users` simulated users for `seconds`, reaching them at `spawn_rate` users per second."""

    seconds: int
    users: int
    spawn_rate: float

    def __post_init__(self) -> None:
        if self.seconds <= 0 or self.users < 0 or self.spawn_rate <= 0:
            raise ValueError(f"Stage needs positive seconds and spawn rate and users >= 0, got {self}")


PROFILES: dict[str, tuple[Stage, ...]] = {
    # What an in-cluster verification run sees, stretched over a minute.
    "verify": (Stage(10, 2, 2), Stage(40, 5, 5), Stage(10, 1, 5)),
    # Morning claim submission: a ramp to the daily peak, a hold, and the tail.
    "ramp": (
        Stage(30, 5, 1),
        Stage(60, 20, 2),
        Stage(60, 40, 4),
        Stage(30, 10, 10),
    ),
}


def profile(name: str) -> tuple[Stage, ...]:
    try:
        return PROFILES[name]
    except KeyError:
        choices = ", ".join(sorted(PROFILES))
        raise ValueError(f"{STAGES_ENV}={name!r} is not a profile; choose one of {choices}") from None


def stage_at(stages: Sequence[Stage], elapsed: float) -> tuple[int, float] | None:
    """(users, spawn rate) for the moment `elapsed` seconds into the run; None once every stage is over."""
    if elapsed < 0:
        raise ValueError(f"elapsed time cannot be negative, got {elapsed}")
    end = 0
    for stage in stages:
        end += stage.seconds
        if elapsed < end:
            return stage.users, stage.spawn_rate
    return None


def total_seconds(stages: Sequence[Stage]) -> int:
    return sum(stage.seconds for stage in stages)
