"""One planning pass over an ApiRelease: the outcomes a step reports, and the status being
rebuilt with its transitions (enter a phase, finish, succeed, start a rollback, hold a revision)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from rollguard.builders import revision_of
from rollguard.builders.spec import (
    RETRY_ANNOTATION,
    image_of,
    release_spec,
)
from rollguard.planner.conditions import parse_timestamp, timestamp
from rollguard.planner.model import Action, Event, Plan, ReleaseSnapshot

TERMINAL = frozenset({"Succeeded", "Blocked", "Failed", "RolledBack"})
FAILED = frozenset({"Blocked", "Failed", "RolledBack"})
HISTORY_LIMIT = 10
# A decision recorded in status is acted on in the next pass, this soon after.
NEXT_PASS = 0.05
# Failures that hold their revision until the template changes or a person asks for a retry.
NOT_HELD = frozenset({"InvalidSpec"})
# The exit code by which `migrate_phase lint` reports unsafe SQL (see docs/contracts.md).
UNSAFE_EXIT = 2


@dataclass(frozen=True)
class Done:
    pass


@dataclass(frozen=True)
class Wait:
    """Not done yet. `after`: when to look again without a change; None leaves it to the next
    change of a watched object or the level-based resync (the configured interval)."""

    message: str
    after: float | None = None


@dataclass(frozen=True)
class Fail:
    """End the release in `phase` (Blocked, Failed or RolledBack)."""

    phase: str
    reason: str
    message: str


@dataclass(frozen=True)
class Rollback:
    reason: str
    message: str


Outcome = Done | Wait | Fail | Rollback


def replicas_wanted(spec: Mapping[str, Any], deployment: Mapping[str, Any] | None) -> int:
    """The pods a rollout must reach: the release's count, or under autoscaling the Deployment's own,
    which the HorizontalPodAutoscaler sets."""
    if spec["autoscaling"] and deployment is not None:
        return int(deployment.get("spec", {}).get("replicas", spec["replicas"]))
    return int(spec["replicas"])


class ReleasePass:
    """One planning pass: the snapshot, the status being rebuilt, and the plan being collected."""

    def __init__(self, snapshot: ReleaseSnapshot) -> None:
        self.snap = snapshot
        self.release = snapshot.release
        meta = self.release["metadata"]
        self.name: str = meta["name"]
        self.namespace: str = meta.get("namespace") or "default"
        self.generation = int(meta.get("generation") or 1)
        self.spec = release_spec(self.release.get("spec") or {})
        self.old: dict[str, Any] = copy.deepcopy(dict(self.release.get("status") or {}))
        self.status: dict[str, Any] = copy.deepcopy(self.old)
        self.plan = Plan()
        self.now = snapshot.now
        self.revision = revision_of(self.spec["template"])
        self.image = image_of(self.spec["template"], self.spec.get("containerName"))
        self.replicas = replicas_wanted(self.spec, snapshot.deployment)

    # -- bookkeeping ---------------------------------------------------------

    def elapsed(self) -> float:
        started = parse_timestamp(self.status.get("phaseStartedAt"))
        return (self.now - started).total_seconds() if started else 0.0

    def enter(self, phase: str, message: str = "") -> None:
        previous = self.status.get("phase")
        if previous == phase:
            return
        if previous:
            self.plan.phase_exits.append((previous, self.elapsed()))
        self.status["phase"] = phase
        self.status["phaseStartedAt"] = timestamp(self.now)
        kind: Literal["Normal", "Warning"] = "Warning" if phase in FAILED | {"RollingBack"} else "Normal"
        self.plan.events.append(Event(kind, phase, message or f"revision {self.revision} ({self.image})"))

    def act(self, verb: str, manifest: dict[str, Any], body: Any = None) -> None:
        self.plan.actions.append(
            Action(
                verb=verb,  # type: ignore[arg-type]
                api_version=manifest["apiVersion"],
                kind=manifest["kind"],
                namespace=self.namespace,
                name=manifest["metadata"]["name"],
                body=manifest if body is None else body,
            )
        )

    def requeue(self, after: float | None) -> None:
        if after is None:
            return
        current = self.plan.requeue_after
        self.plan.requeue_after = after if current is None else min(current, after)

    def record_history(self, phase: str) -> None:
        entry = {
            "revision": self.revision,
            "image": self.image,
            "phase": phase,
            "finishedAt": timestamp(self.now),
        }
        self.status["history"] = [*self.status.get("history", []), entry][-HISTORY_LIMIT:]

    # -- transitions ---------------------------------------------------------

    def begin(self) -> None:
        """A new generation starts over from lint; an in-flight one is superseded."""
        was = self.status.get("phase")
        if was and was not in TERMINAL and self.status.get("observedGeneration") is not None:
            self.plan.events.append(
                Event(
                    "Normal",
                    "Superseded",
                    f"generation {self.generation} supersedes revision "
                    f"{self.status.get('currentRevision')} in {was}",
                )
            )
        for stale in (
            *("loadTest", "rollback", "reason", "migrations", "completedSteps", "pausedAt"),
            *("currentStepIndex", "canaryWeight", "canaryRevision", "stepStartedAt", "analysis"),
        ):
            self.status.pop(stale, None)
        self.status.pop("failedRevision", None)
        self.status.update(
            observedGeneration=self.generation,
            currentRevision=self.revision,
            currentImage=self.image,
            message=f"generation {self.generation}: revision {self.revision}",
        )
        self.status["phase"] = None
        self.enter("Pending")

    def new_generation(self) -> None:
        """A generation that leaves the pod template alone does not start a release over: it is
        taken into the current one (replicas, thresholds, pausing). Only a new template, or an
        invalid spec being fixed, starts over from lint."""
        phase = self.status.get("phase")
        same_run = (
            phase is not None
            and self.status.get("currentRevision") == self.revision
            and not (phase == "Failed" and self.status.get("reason") in NOT_HELD)
        )
        if not same_run:
            self.begin()
            return
        self.status["observedGeneration"] = self.generation
        if self.held():
            self.status["message"] = self.held_message()

    def held(self, status: Mapping[str, Any] | None = None) -> bool:
        """The current revision failed and is not rolled out again without a retry."""
        status = self.status if status is None else status
        return status.get("phase") in FAILED and status.get("failedRevision") == self.revision

    def held_message(self) -> str:
        return (
            f"revision {self.revision} failed ({self.status.get('reason')}); it is not rolled out again "
            f"until spec.template changes or: kubectl annotate apirelease {self.name} "
            f"{RETRY_ANNOTATION}={self.revision}"
        )

    def retry_annotation(self) -> str | None:
        return (self.release["metadata"].get("annotations") or {}).get(RETRY_ANNOTATION)

    def retry(self) -> None:
        """A person asked for the held revision again: start it over (what ran for it stays done)."""
        self.plan.events.append(Event("Normal", "Retry", f"revision {self.revision} is retried on request"))
        self.begin()

    def consume_retry(self) -> None:
        """Drop a retry annotation once a written status records the retry (never in the same pass)."""
        if self.retry_annotation() == self.revision and not self.held(self.old) and not self.held():
            self.remove_annotations([RETRY_ANNOTATION])

    def remove_annotations(self, keys: list[str]) -> None:
        """One patch of the release that drops the spent request annotations `keys`."""
        self.plan.actions.append(
            Action(
                verb="patch",
                api_version=self.release.get("apiVersion", "rollguard.dev/v1alpha1"),
                kind="ApiRelease",
                namespace=self.namespace,
                name=self.name,
                body={"metadata": {"annotations": dict.fromkeys(keys)}},
            )
        )

    def ran(self, phase: str) -> bool:
        """Whether a migration phase already succeeded for this revision (Jobs may be long gone)."""
        return any(
            entry.get("revision") == self.revision and phase in entry.get("phases", [])
            for entry in self.status.get("migrationsRun") or []
        )

    def record_ran(self, phase: str) -> None:
        entries = [dict(entry) for entry in self.status.get("migrationsRun") or []]
        mine = next((entry for entry in entries if entry.get("revision") == self.revision), None)
        if mine is None:
            mine = {"revision": self.revision, "phases": []}
            entries.append(mine)
        if phase not in mine["phases"]:
            mine["phases"] = [*mine["phases"], phase]
        self.status["migrationsRun"] = entries[-HISTORY_LIMIT:]

    def make_stable(self) -> None:
        self.status.update(
            stableRevision=self.revision,
            stableImage=self.image,
            stableTemplate=copy.deepcopy(self.spec["template"]),
        )

    def settle(self, outcome: Outcome) -> None:
        if isinstance(outcome, Wait):
            self.status["message"] = outcome.message
            self.requeue(outcome.after)
        elif isinstance(outcome, Fail):
            self.finish(outcome)
        elif isinstance(outcome, Rollback):
            self.start_rollback(outcome)

    def finish(self, outcome: Fail) -> None:
        self.status["reason"] = outcome.reason
        self.status["message"] = outcome.message
        self.status.pop("pausedAt", None)
        if outcome.phase in FAILED and outcome.reason not in NOT_HELD:
            self.status["failedRevision"] = self.revision
        self.enter(outcome.phase, outcome.message)
        self.record_history(outcome.phase)
        self.plan.outcome = outcome.phase

    def succeed(self) -> None:
        self.make_stable()
        self.status.update(
            reason="Succeeded",
            message=f"revision {self.revision} ({self.image}) is serving",
        )
        self.enter("Succeeded", self.status["message"])
        self.record_history("Succeeded")
        self.plan.outcome = "Succeeded"

    def start_rollback(self, failure: Rollback) -> None:
        if not self.spec["rollback"]["automatic"]:
            self.finish(Fail("Failed", failure.reason, f"{failure.message}; automatic rollback is off"))
            return
        stable = self.status.get("stableRevision")
        if not self.status.get("stableTemplate") or stable == self.revision:
            message = (
                f"{failure.message}; no stable revision to roll back to, the Deployment is left as it is"
            )
            self.finish(Fail("Failed", failure.reason, message))
            return
        self.status["reason"] = failure.reason
        self.status["rollback"] = {
            "reason": failure.reason,
            "message": failure.message,
            "fromRevision": self.revision,
            "toRevision": stable,
            "detectedAt": timestamp(self.now),
            "detectionSeconds": round(self.elapsed(), 3),
            "probeAttempts": 0,
        }
        self.enter("RollingBack", f"{failure.message}; restoring revision {stable}")
        # The decision is recorded before the Deployment is touched: a restart between the two
        # writes finds `RollingBack` and goes on restoring, never back to the failed template.
        self.status["message"] = f"rolling back to revision {stable}"
        self.requeue(NEXT_PASS)
