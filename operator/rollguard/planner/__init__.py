"""Pure planners: an observed snapshot in, the writes of one pass and one status patch out."""

from rollguard.planner.loadtest import plan_loadtest, plan_loadtest_rejection
from rollguard.planner.model import (
    Action,
    Event,
    LoadTestSnapshot,
    Plan,
    ProbeResult,
    ProbeTarget,
    ReleaseSnapshot,
)
from rollguard.planner.release import plan_rejection, plan_release
from rollguard.planner.rollback import recovery_target, wants_probe

__all__ = [
    "Action",
    "Event",
    "LoadTestSnapshot",
    "Plan",
    "ProbeResult",
    "ProbeTarget",
    "ReleaseSnapshot",
    "plan_loadtest",
    "plan_loadtest_rejection",
    "plan_rejection",
    "plan_release",
    "recovery_target",
    "wants_probe",
]
