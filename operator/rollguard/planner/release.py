"""The release planner: (spec, status, observed objects, now) in, actions and one status patch out.

A release walks an ordered table of steps (lint, expand, canary, roll out,
verify, contract; the canary step walks the spec's own list of steps). Each
step is a small function that reports `Done`, `Wait` or a failure; the walk
stops at the first unfinished step, as Argo Rollouts does.
A step with no work in the spec is passed over without entering its phase.
Completed steps are recorded in `status.completedSteps`, so a restarted
operator resumes exactly where it stopped and never repeats a finished step.
"""

from __future__ import annotations

import copy
import dataclasses

from rollguard.builders import build_deployment
from rollguard.planner.canary import scale_canary, stand_down
from rollguard.planner.conditions import parse_timestamp, timestamp
from rollguard.planner.deployment import crashing, ensure_deployment
from rollguard.planner.manual import abort, consume_requests
from rollguard.planner.model import Event, Plan, ReleaseSnapshot
from rollguard.planner.objects import deployment_revision
from rollguard.planner.patches import apply_merge_patch
from rollguard.planner.rollback import rolling_back
from rollguard.planner.state import TERMINAL, Done, Fail, ReleasePass
from rollguard.planner.status import result
from rollguard.planner.steps import STEPS
from rollguard.planner.validation import spec_problem


def hold(p: ReleasePass) -> None:
    """`spec.paused`: the release stays at its step, the Deployment is paused where it is, and
    health is still watched, so a crash loop is still rolled back."""
    phase = p.status.get("phase")
    p.status.setdefault("pausedAt", timestamp(p.now))
    p.status["message"] = f"paused in {phase}: no step starts until spec.paused is false"
    deployment = p.snap.deployment
    if deployment is None or phase not in ("RollingOut", "Verifying"):
        return
    if deployment_revision(deployment) == p.revision and (crash := crashing(p)):
        p.start_rollback(crash)
        return
    if not (deployment.get("spec") or {}).get("paused"):
        pause = [{"op": "add", "path": "/spec/paused", "value": True}]
        p.act("patch", build_deployment(p.release), body=pause)


def resume(p: ReleasePass) -> None:
    """Back from a pause: the time spent paused does not count against the step's timeout."""
    paused_at = parse_timestamp(p.status.pop("pausedAt", None))
    for key in ("phaseStartedAt", "stepStartedAt"):
        started = parse_timestamp(p.status.get(key))
        if paused_at and started:
            p.status[key] = timestamp(started + (p.now - paused_at))
    deployment = p.snap.deployment
    if deployment is not None and (deployment.get("spec") or {}).get("paused"):
        unpause = [{"op": "add", "path": "/spec/paused", "value": False}]
        p.act("patch", build_deployment(p.release), body=unpause)


def keep_stable(p: ReleasePass) -> None:
    """After a release ended, the owned Deployment is kept at the stable revision (level-based)."""
    if p.status.get("phase") not in ("Succeeded", "RolledBack") or not p.status.get("stableTemplate"):
        return
    if p.spec["paused"]:
        return
    scale_canary(p, 0)
    if ensure_deployment(p, p.status["stableTemplate"], p.status["stableRevision"]):
        stable = p.status["stableRevision"]
        p.plan.events.append(
            Event("Normal", "DriftCorrected", f"Deployment {p.name} restored to revision {stable}")
        )


def plan_release(snapshot: ReleaseSnapshot) -> Plan:
    """Decide the next writes for one ApiRelease."""
    p = ReleasePass(snapshot)
    if p.status.get("observedGeneration") != p.generation:
        p.new_generation()
    elif p.held() and p.retry_annotation() == p.revision:
        p.retry()
    if problem := spec_problem(p.spec):
        if p.status.get("phase") != "Failed":
            p.finish(Fail("Failed", "InvalidSpec", problem))
        return result(p)
    p.consume_retry()
    consume_requests(p)
    if abort(p):
        return result(p)
    if p.status.get("phase") in TERMINAL:
        keep_stable(p)
        return result(p)
    if p.status.get("phase") == "RollingBack":
        p.settle(rolling_back(p))
        return result(p)
    if p.spec["paused"]:
        hold(p)
        return result(p)
    resume(p)
    stand_down(p)
    completed: list[str] = p.status.setdefault("completedSteps", [])
    for step in STEPS:
        if step.key in completed:
            continue
        if not step.has_work(p):
            step.skip(p)
            completed.append(step.key)
            continue
        p.enter(step.phase)
        outcome = step.run(p)
        if isinstance(outcome, Done):
            completed.append(step.key)
            continue
        p.settle(outcome)
        return result(p)
    p.succeed()
    return result(p)


def plan_rejection(snapshot: ReleaseSnapshot, plan: Plan | None, refused: str) -> Plan:
    """The API refused a request for good (403, 422, ...): the release stops `Failed` with reason
    `ApiRejected` and the API's message, in the same pass. The revision is held like any failed
    one: a new template or the retry annotation (after fixing RBAC, say) starts it again."""
    old = dict(snapshot.release.get("status") or {})
    status = apply_merge_patch(old, plan.status) if plan else old
    p = ReleasePass(dataclasses.replace(snapshot, release={**snapshot.release, "status": status}))
    p.old = copy.deepcopy(old)
    p.finish(Fail("Failed", "ApiRejected", f"the API refused {refused}"))
    outcome = result(p)
    outcome.events = [*(plan.events if plan else []), *outcome.events]
    return outcome
