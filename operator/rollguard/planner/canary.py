"""The canary strategy: `spec.strategy.canary.steps` walked by `status.currentStepIndex`.

Every pass first holds the canary at `status.canaryWeight` (the canary Deployment's replicas, the
stable Deployment's replicas, the canary's health), then runs the current step; a step that is
done moves the index on, and the walk stops at the first step that is not. All the walk knows is
in the status, so a restarted operator goes on at the same step. The stable Deployment's pod
template is never changed here: only its replica count gives way to the canary's, and an abort
gives it back."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from rollguard.analysis.model import parse_duration
from rollguard.builders.canary import (
    build_canary_deployment,
    build_canary_service,
    canary_service_name,
)
from rollguard.builders.deployment import build_deployment
from rollguard.builders.spec import PROMOTE_ANNOTATION, TRACK_LABEL
from rollguard.planner.canary_analysis import run_analysis
from rollguard.planner.conditions import parse_timestamp, timestamp
from rollguard.planner.deployment import ensure_deployment
from rollguard.planner.health import rollout_verdict
from rollguard.planner.model import Event
from rollguard.planner.objects import deployment_revision, template_drifted
from rollguard.planner.state import NEXT_PASS, Done, Outcome, ReleasePass, Rollback, Wait


def split(weight: int, replicas: int) -> tuple[int, int]:
    """(canary, stable) replicas for `weight` percent of `replicas`: the canary rounds up, so any
    weight above zero gets at least one pod, and the stable Deployment keeps at least one pod
    until the weight is 100."""
    if weight <= 0:
        return 0, replicas
    if weight >= 100:
        return replicas, 0
    canary = math.ceil(weight * replicas / 100)
    return canary, max(replicas - canary, 1)


def canary_steps(p: ReleasePass) -> Sequence[Mapping[str, Any]]:
    canary = p.spec["strategy"].get("canary") or {}
    return list(canary.get("steps") or [])


def canarying(p: ReleasePass) -> bool:
    """A canary needs a stable revision beside it: the first release of an ApiRelease (or the
    stable revision released again) is rolled out as a whole."""
    stable = p.status.get("stableRevision")
    return bool(canary_steps(p)) and bool(p.status.get("stableTemplate")) and stable != p.revision


def describe(step: Mapping[str, Any]) -> str:
    if "setWeight" in step:
        return f"setWeight {step['setWeight']}"
    if "pause" in step:
        duration = (step["pause"] or {}).get("duration")
        return f"pause {duration}" if duration else "pause until promoted"
    names = ", ".join(metric["name"] for metric in step["analysis"]["metrics"])
    return f"analysis {names}"


# -- holding the weight --------------------------------------------------------


def _step_elapsed(p: ReleasePass) -> float:
    started = parse_timestamp(p.status.get("stepStartedAt"))
    return (p.now - started).total_seconds() if started else 0.0


def _ensure_stable_revision(p: ReleasePass) -> Outcome | None:
    """The stable Deployment runs the stable revision (a superseded rollout may have left it on
    another one); its replica count is set by `_hold_stable`."""
    deployment = p.snap.deployment
    if deployment is not None and deployment_revision(deployment) == p.status["stableRevision"]:
        return None
    return ensure_deployment(p, p.status["stableTemplate"], p.status["stableRevision"])


def _ensure_canary_service(p: ReleasePass) -> Outcome | None:
    if not p.spec.get("service") or canary_service_name(p.release) in p.snap.services:
        return None
    p.act("create", build_canary_service(p.release))
    return None


def scale_canary(p: ReleasePass, replicas: int) -> Outcome | None:
    """The canary Deployment runs the current revision on `replicas` pods; None once it does.
    Scaling to zero touches only the replica count."""
    canary = p.snap.canary
    desired = build_canary_deployment(p.release, replicas)
    if canary is None:
        if replicas == 0:
            return None
        p.act("create", desired)
        return Wait(f"canary Deployment created with {replicas} pod(s)", after=0.5)
    live = canary.get("spec") or {}
    if replicas == 0:
        if live.get("replicas", 0) == 0:
            return None
        p.act("patch", desired, body=[{"op": "add", "path": "/spec/replicas", "value": 0}])
        return Wait("canary Deployment scaled to zero", after=0.5)
    if (
        deployment_revision(canary) != p.revision
        or template_drifted(desired["spec"]["template"], live.get("template") or {})
        or live.get("replicas") != replicas
    ):
        body = [
            {"op": "add", "path": f"/spec/{key}", "value": desired["spec"][key]}
            for key in ("replicas", "strategy", "progressDeadlineSeconds", "template")
        ]
        p.act("patch", desired, body=body)
        return Wait(f"canary Deployment set to {replicas} pod(s) of revision {p.revision}", after=0.5)
    return None


def _hold_stable(p: ReleasePass, replicas: int) -> Outcome | None:
    deployment = p.snap.deployment
    assert deployment is not None
    if (deployment.get("spec") or {}).get("replicas") != replicas:
        body = [{"op": "add", "path": "/spec/replicas", "value": replicas}]
        p.act("patch", build_deployment(p.release, p.status["stableTemplate"]), body=body)
        return Wait(f"stable Deployment set to {replicas} pod(s)", after=0.5)
    if int((deployment.get("status") or {}).get("replicas", 0)) > replicas:
        return Wait(f"stable Deployment scaling down to {replicas} pod(s)", after=0.5)
    return None


def hold_weight(p: ReleasePass, ready_timeout: float) -> Outcome | None:
    """Bring both Deployments to `status.canaryWeight`: the canary's pods first, Ready, and only
    then the stable Deployment down, so capacity never drops. A canary pod that crash-loops, or
    is not Ready within `ready_timeout` of the step's start, aborts."""
    weight = int(p.status.get("canaryWeight") or 0)
    canary_replicas, stable_replicas = split(weight, p.replicas)
    for pending in (_ensure_stable_revision(p), _ensure_canary_service(p), scale_canary(p, canary_replicas)):
        if pending is not None:
            return pending
    if canary_replicas and p.snap.canary is not None:
        pods = [pod for pod in p.snap.pods if (pod["metadata"].get("labels") or {}).get(TRACK_LABEL)]
        verdict = rollout_verdict(
            deployment=p.snap.canary,
            pods=pods,
            revision=p.revision,
            replicas=canary_replicas,
            max_restarts=p.spec["health"]["maxRestarts"],
            ready_timeout_seconds=ready_timeout,
            elapsed_seconds=_step_elapsed(p),
        )
        if verdict.state == "failed":
            return Rollback(verdict.reason, f"canary: {verdict.message}")
        if verdict.state == "progressing":
            remaining = ready_timeout - _step_elapsed(p)
            after = max(0.2, remaining + 0.1) if math.isfinite(remaining) else None
            return Wait(f"canary at {weight}%: {verdict.message}", after=after)
    return _hold_stable(p, stable_replicas)


# -- the walk ------------------------------------------------------------------


def _start(p: ReleasePass) -> None:
    p.status.update(
        canaryRevision=p.revision, currentStepIndex=0, canaryWeight=0, stepStartedAt=timestamp(p.now)
    )
    p.status.pop("analysis", None)


def _advance(p: ReleasePass, index: int, why: str) -> None:
    steps = canary_steps(p)
    p.status["currentStepIndex"] = index
    p.status["stepStartedAt"] = timestamp(p.now)
    if index >= len(steps):
        p.plan.events.append(Event("Normal", "CanaryPromoted", f"revision {p.revision}: {why}"))
    else:
        p.plan.events.append(Event("Normal", "CanaryStep", f"{why}; step {index}: {describe(steps[index])}"))


def promote_target(value: str | None, revision: str) -> int | str | None:
    """What a promote annotation asks of `revision`: "full", one step index, or nothing."""
    if not value:
        return None
    asked, _, step = value.partition(":")
    if asked != revision:
        return None
    if not step:
        return "full"
    return int(step) if step.isdigit() else None


def _promoted(p: ReleasePass) -> None:
    """`rollguard promote`: skip the current step, or with `--full` every step left."""
    value = (p.release["metadata"].get("annotations") or {}).get(PROMOTE_ANNOTATION)
    target = promote_target(value, p.revision)
    index = int(p.status.get("currentStepIndex") or 0)
    count = len(canary_steps(p))
    if target == "full" and index < count:
        _advance(p, count, f"promoted on request, steps {index} to {count - 1} skipped")
    elif target == index and index < count:
        _advance(p, index + 1, f"step {index} ({describe(canary_steps(p)[index])}) skipped on request")


def walk(p: ReleasePass) -> Outcome:
    """The canary step of the release: Done once every canary step is."""
    steps = canary_steps(p)
    if p.status.get("canaryRevision") != p.revision or "currentStepIndex" not in p.status:
        _start(p)
    _promoted(p)
    while True:
        index = int(p.status["currentStepIndex"])
        step = steps[index] if index < len(steps) else None
        timeout = float("inf")
        if step is not None and "setWeight" in step:
            p.status["canaryWeight"] = int(step["setWeight"])
            timeout = float(p.spec["health"]["readyTimeoutSeconds"])
        if pending := hold_weight(p, timeout):
            return pending
        if step is None:
            p.status["canaryWeight"] = 100
            return Done()
        outcome = _run(p, index, step)
        if not isinstance(outcome, Done):
            return outcome
        _advance(p, index + 1, f"step {index} ({describe(step)}) done")


def _run(p: ReleasePass, index: int, step: Mapping[str, Any]) -> Outcome:
    if "setWeight" in step:
        return Done()
    if "pause" in step:
        duration = (step["pause"] or {}).get("duration")
        if duration is None:
            return Wait(
                f"paused at step {index} until promoted: rollguard promote {p.name} "
                f"(or kubectl annotate apirelease {p.name} {PROMOTE_ANNOTATION}={p.revision}:{index})"
            )
        remaining = parse_duration(duration) - _step_elapsed(p)
        if remaining <= 0:
            return Done()
        return Wait(f"paused at step {index} for {duration}", after=remaining + NEXT_PASS)
    return run_analysis(p, index, step["analysis"])


def stand_down(p: ReleasePass) -> None:
    """A canary of another revision (one a new generation superseded) serves no longer: its pods go
    and the stable Deployment gets its full count back, before the new revision's first step."""
    canary = p.snap.canary
    if canary is None or deployment_revision(canary) == p.revision:
        return
    if not (canary.get("spec") or {}).get("replicas"):
        return
    scale_canary(p, 0)
    deployment = p.snap.deployment
    stable_revision = p.status.get("stableRevision")
    if deployment is not None and stable_revision and deployment_revision(deployment) == stable_revision:
        _hold_stable(p, int(p.spec["replicas"]))


def retire(p: ReleasePass) -> Outcome | None:
    """After the promotion the canary Deployment goes to zero; None once it is."""
    if pending := scale_canary(p, 0):
        return pending
    canary = p.snap.canary
    if canary is not None and int((canary.get("status") or {}).get("replicas", 0)) > 0:
        return Wait("waiting for the canary pods to go", after=0.5)
    return None
