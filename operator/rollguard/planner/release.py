"""The release planner: (spec, status, observed objects, now) in, actions and one status patch out.

A release walks an ordered table of steps (lint, expand, roll out, verify,
contract). Each step is a small function that reports `Done`, `Wait` or a
failure; the walk stops at the first unfinished step, as Argo Rollouts does.
Completed steps are recorded in `status.completedSteps`, so a restarted
operator resumes exactly where it stopped and never repeats a finished step.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from rollguard.builders import (
    build_deployment,
    build_migration_job,
    build_verification_loadtest,
    migration_job_name,
    revision_of,
)
from rollguard.builders.jobs import MigrationPhase
from rollguard.builders.spec import (
    APPROVE_CONTRACT_ANNOTATION,
    RETRY_ANNOTATION,
    REVISION_LABEL,
    ROLE_LABEL,
    api_container,
    image_of,
    release_spec,
)
from rollguard.planner.conditions import parse_timestamp, set_condition, timestamp
from rollguard.planner.health import rollout_verdict
from rollguard.planner.model import Action, Event, Plan, ProbeTarget, ReleaseSnapshot
from rollguard.planner.objects import (
    deployment_available,
    deployment_revision,
    job_state,
    live_pods,
    revision_of_pod,
    template_drifted,
)
from rollguard.planner.patches import apply_merge_patch, merge_patch

TERMINAL = frozenset({"Succeeded", "Blocked", "Failed", "RolledBack"})
FAILED = frozenset({"Blocked", "Failed", "RolledBack"})
HISTORY_LIMIT = 10
POLL_SECONDS = 2.0
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
    message: str
    after: float = POLL_SECONDS


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


class _Pass:
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

    def requeue(self, after: float) -> None:
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
        for stale in ("loadTest", "rollback", "reason", "migrations", "completedSteps", "pausedAt"):
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
            self.plan.actions.append(
                Action(
                    verb="patch",
                    api_version=self.release.get("apiVersion", "rollguard.dev/v1alpha1"),
                    kind="ApiRelease",
                    namespace=self.namespace,
                    name=self.name,
                    body={"metadata": {"annotations": {RETRY_ANNOTATION: None}}},
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

    # -- the result ----------------------------------------------------------

    def result(self) -> Plan:
        self.status["conditions"] = _conditions(self)
        self.plan.status = merge_patch(self.old, self.status)
        return self.plan


# -- steps -------------------------------------------------------------------


def migration_job(p: _Pass, phase: MigrationPhase, failure: tuple[str, str]) -> Outcome:
    """Get-or-create the Job of one migration phase and report its result."""
    name = migration_job_name(p.name, phase, p.revision)
    migrations = p.status.setdefault("migrations", {})
    if p.ran(phase):
        migrations[phase] = "Succeeded"
        return Done()
    job = p.snap.jobs.get(name)
    if job is None:
        if migrations.get(phase) == "Succeeded":
            return Done()
        if busy := _other_migration_running(p):
            return Wait(f"{phase} waits for Job {busy} of another revision to finish")
        p.act("create", build_migration_job(p.release, phase))
        migrations[phase] = "Running"
        return Wait(f"{phase} Job {name} started")
    state, detail = job_state(job)
    if state == "succeeded":
        migrations[phase] = "Succeeded"
        p.record_ran(phase)
        return Done()
    if state == "failed":
        migrations[phase] = "Failed"
        exit_code, ended = _termination(p, phase)
        said = f"Job {name} failed: {detail}" if detail else f"Job {name} failed"
        migrations["message"] = f"{said}; {ended}" if ended else said
        fail_phase, reason = failure
        if phase == "lint" and exit_code != UNSAFE_EXIT:
            # Only the documented exit code means unsafe SQL; a crash, OOM or deadline is not a verdict on it.
            fail_phase, reason = "Failed", "LintFailed"
        consequence = "nothing was changed" if phase == "lint" else "the Deployment was not touched"
        if phase == "contract":
            consequence = "the new revision keeps serving"
        return Fail(fail_phase, reason, f"{migrations['message']}; {consequence}")
    return Wait(f"{phase} Job {name} running")


def _termination(p: _Pass, phase: MigrationPhase) -> tuple[int | None, str]:
    """The exit code of the phase's migration pod and how it ended (reason and termination message)."""
    for pod in p.snap.pods:
        labels = pod.get("metadata", {}).get("labels") or {}
        if labels.get(ROLE_LABEL) != f"migrate-{phase}" or labels.get(REVISION_LABEL) != p.revision:
            continue
        for container in (pod.get("status") or {}).get("containerStatuses") or []:
            terminated = (container.get("state") or {}).get("terminated")
            if terminated:
                code = terminated.get("exitCode")
                text = str(terminated.get("message") or "").strip()[:500]
                said = f"exit {code} ({terminated.get('reason', 'Error')})"
                return (int(code) if code is not None else None), f"{said}: {text}" if text else said
    return None, ""


def _other_migration_running(p: _Pass) -> str | None:
    """The name of a migration Job of another revision that is still running, if any."""
    for name, job in sorted(p.snap.jobs.items()):
        labels = job.get("metadata", {}).get("labels") or {}
        role = labels.get(ROLE_LABEL, "")
        other = role.startswith("migrate-") and labels.get(REVISION_LABEL) != p.revision
        if other and job_state(job)[0] == "running":
            return name
    return None


def lint(p: _Pass) -> Outcome:
    migrations = p.spec["migrations"]
    if not (migrations["enabled"] and migrations["lint"]):
        p.status.setdefault("migrations", {})["lint"] = "Skipped"
        return Done()
    return migration_job(p, "lint", ("Blocked", "UnsafeMigration"))


def expand(p: _Pass) -> Outcome:
    if not p.spec["migrations"]["enabled"]:
        p.status.setdefault("migrations", {})["expand"] = "Skipped"
        return Done()
    return migration_job(p, "expand", ("Failed", "ExpandFailed"))


def replicas_wanted(spec: Mapping[str, Any], deployment: Mapping[str, Any] | None) -> int:
    """The pods a rollout must reach: the release's count, or under autoscaling the Deployment's own,
    which the HorizontalPodAutoscaler sets."""
    if spec["autoscaling"] and deployment is not None:
        return int(deployment.get("spec", {}).get("replicas", spec["replicas"]))
    return int(spec["replicas"])


def _json_patch_deployment(desired: dict[str, Any], autoscaling: bool) -> list[dict[str, Any]]:
    """The fields the release owns; under autoscaling `replicas` belongs to the autoscaler.
    Every write of the template also resumes a Deployment a pause left paused."""
    spec = desired["spec"]
    owned = ("strategy", "progressDeadlineSeconds", "template")
    return [
        *(
            {"op": "add", "path": f"/spec/{key}", "value": spec[key]}
            for key in (owned if autoscaling else ("replicas", *owned))
        ),
        {"op": "add", "path": "/spec/paused", "value": False},
    ]


def _ensure_deployment(p: _Pass, template: dict[str, Any] | None, revision: str) -> Outcome | None:
    """Create or patch the Deployment to run `revision`; None once it does.

    What the release set is compared as a subset of what the API server stores, so
    server-side defaults never look like drift and never cause a patch loop."""
    desired = build_deployment(p.release, template)
    deployment = p.snap.deployment
    if deployment is None:
        p.act("create", desired)
        return Wait(f"Deployment {p.name} created with revision {revision}", after=0.5)
    live = deployment.get("spec", {})
    if live.get("selector") != desired["spec"]["selector"]:
        # A selector is immutable: the Deployment is replaced, its ReplicaSets and pods orphaned so
        # they keep serving; the new Deployment adopts them (they match its selector) and rolls on.
        p.act("delete", desired, body={"propagationPolicy": "Orphan"})
        p.act("create", desired)
        return Wait(f"Deployment {p.name} replaced for its new selector; its pods kept serving", after=0.5)
    if (
        deployment_revision(deployment) != revision
        or template_drifted(desired["spec"]["template"], live.get("template") or {})
        or live.get("paused")
        or (not p.spec["autoscaling"] and live.get("replicas") != p.spec["replicas"])
    ):
        p.act("patch", desired, body=_json_patch_deployment(desired, p.spec["autoscaling"]))
        return Wait(f"Deployment {p.name} updated to revision {revision}", after=0.5)
    return None


def rollout(p: _Pass) -> Outcome:
    if pending := _ensure_deployment(p, None, p.revision):
        return pending
    assert p.snap.deployment is not None
    health = p.spec["health"]
    verdict = rollout_verdict(
        deployment=p.snap.deployment,
        pods=p.snap.pods,
        revision=p.revision,
        replicas=p.replicas,
        max_restarts=health["maxRestarts"],
        ready_timeout_seconds=health["readyTimeoutSeconds"],
        elapsed_seconds=p.elapsed(),
    )
    if verdict.state == "failed":
        return Rollback(verdict.reason, verdict.message)
    if verdict.state == "healthy":
        return Done()
    remaining = health["readyTimeoutSeconds"] - p.elapsed()
    return Wait(verdict.message, after=max(0.2, min(POLL_SECONDS, remaining + 0.1)))


def _crashing(p: _Pass) -> Rollback | None:
    """A crash loop after the rollout still counts while the release is being verified."""
    if p.snap.deployment is None:
        return None
    verdict = rollout_verdict(
        deployment=p.snap.deployment,
        pods=p.snap.pods,
        revision=p.revision,
        replicas=p.replicas,
        max_restarts=p.spec["health"]["maxRestarts"],
        ready_timeout_seconds=float("inf"),
        elapsed_seconds=0.0,
    )
    return Rollback(verdict.reason, verdict.message) if verdict.state == "failed" else None


def verify(p: _Pass) -> Outcome:
    config = p.spec["loadTest"]
    if not config["enabled"]:
        return Done()
    if crash := _crashing(p):
        return crash
    loadtest = p.snap.loadtest
    if loadtest is None:
        manifest = build_verification_loadtest(p.release)
        p.act("create", manifest)
        p.status["loadTest"] = {"name": manifest["metadata"]["name"], "phase": "Pending"}
        return Wait(f"LoadTest {manifest['metadata']['name']} created")
    status = loadtest.get("status") or {}
    stats = status.get("stats") or {}
    summary: dict[str, Any] = {"name": loadtest["metadata"]["name"], "phase": status.get("phase", "Pending")}
    summary.update({key: status[key] for key in ("verdict", "reasons") if key in status})
    summary.update({key: stats[key] for key in ("p95Ms", "errorRatePercent", "requests") if key in stats})
    p.status["loadTest"] = summary
    phase = summary["phase"]
    if phase == "Passed":
        return Done()
    if phase in ("Failed", "Error"):
        why = "; ".join(status.get("reasons") or []) or status.get("message", phase)
        message = f"LoadTest {summary['name']} {phase.lower()}: {why}"
        if config["onFailure"] == "Ignore":
            p.plan.events.append(Event("Warning", "VerificationIgnored", message))
            return Done()
        return Rollback("LoadTestFailed" if phase == "Failed" else "LoadTestError", message)
    return Wait(f"LoadTest {summary['name']} {phase.lower()}")


def contract(p: _Pass) -> Outcome:
    migrations = p.spec["migrations"]
    policy = migrations["contractPolicy"]
    if not migrations["enabled"] or policy == "Never":
        p.status.setdefault("migrations", {})["contract"] = "Skipped"
        return Done()
    annotations = p.release["metadata"].get("annotations") or {}
    if policy == "Manual" and annotations.get(APPROVE_CONTRACT_ANNOTATION) != p.revision:
        p.status.setdefault("migrations", {})["contract"] = "AwaitingApproval"
        return Wait(
            "contract migrations wait for approval: "
            f"kubectl annotate apirelease {p.name} {APPROVE_CONTRACT_ANNOTATION}={p.revision}",
            after=POLL_SECONDS * 5,
        )
    older = [
        pod
        for pod in live_pods(p.snap.pods)
        if ROLE_LABEL not in (pod.get("metadata", {}).get("labels") or {})
        and revision_of_pod(pod) not in (None, p.revision)
    ]
    if older:
        return Wait(f"contract waits for {len(older)} pod(s) of older revisions to go")
    if p.status.get("stableRevision") != p.revision:
        # Once its contract may start, a revision is what a rollback returns to: the schema it
        # leaves behind no longer serves older revisions. Recorded before the Job is created.
        p.make_stable()
        return Wait(f"revision {p.revision} is stable; its contract Job starts next", after=NEXT_PASS)
    return migration_job(p, "contract", ("Failed", "ContractFailed"))


STEPS: tuple[tuple[str, str, Callable[[_Pass], Outcome]], ...] = (
    ("Linting", "lint", lint),
    ("Expanding", "expand", expand),
    ("RollingOut", "rollout", rollout),
    ("Verifying", "verify", verify),
    ("Contracting", "contract", contract),
)


# -- rollback ----------------------------------------------------------------


def recovery_target(release: dict[str, Any] | Any) -> ProbeTarget | None:
    """The Service endpoint whose readiness proves a rollback recovered, or None without a Service."""
    spec = release_spec(release.get("spec") or {})
    service = spec.get("service")
    if not service:
        return None
    verify_cfg = spec["health"]["verify"]
    return ProbeTarget(
        service=service["name"],
        namespace=release["metadata"].get("namespace") or "default",
        port=int(verify_cfg.get("port") or service.get("port", 80)),
        path=verify_cfg["path"],
        timeout_seconds=float(verify_cfg["timeoutSeconds"]),
    )


def wants_probe(snapshot: ReleaseSnapshot) -> ProbeTarget | None:
    """The probe the next pass needs: only once the restored revision is Available again."""
    status = snapshot.release.get("status") or {}
    deployment = snapshot.deployment
    if status.get("phase") != "RollingBack" or deployment is None:
        return None
    if deployment_revision(deployment) != status.get("stableRevision"):
        return None
    replicas = replicas_wanted(release_spec(snapshot.release.get("spec") or {}), deployment)
    if not deployment_available(deployment, replicas):
        return None
    return recovery_target(dict(snapshot.release))


def rolling_back(p: _Pass) -> Outcome:
    stable = p.status["stableRevision"]
    if pending := _ensure_deployment(p, p.status["stableTemplate"], stable):
        return pending
    assert p.snap.deployment is not None
    rollback = p.status.setdefault("rollback", {})
    if not deployment_available(p.snap.deployment, p.replicas):
        limit = max(2 * p.spec["health"]["readyTimeoutSeconds"], 30)
        if p.elapsed() > limit:
            return Fail(
                "Failed",
                "RollbackStuck",
                f"revision {stable} was not Available {limit:g}s after the rollback",
            )
        return Wait(f"waiting for revision {stable} to be Available", after=0.5)
    if recovery_target(dict(p.release)) is None:
        return _recovered(p, "no Service is configured; the restored Deployment is Available")
    probe = p.snap.probe
    if probe is None:
        return Wait(f"revision {stable} is Available; checking the Service", after=0.1)
    rollback["probeAttempts"] = int(rollback.get("probeAttempts", 0)) + 1
    rollback["probeMessage"] = probe.message
    if probe.ok:
        return _recovered(p, probe.message)
    retries = p.spec["health"]["verify"]["retries"]
    if rollback["probeAttempts"] > retries:
        return Fail(
            "Failed",
            "RecoveryUnverified",
            f"revision {stable} is Available but its Service failed "
            f"{rollback['probeAttempts']} checks: {probe.message}",
        )
    return Wait(f"recovery check {rollback['probeAttempts']} failed: {probe.message}", after=1.0)


def _recovered(p: _Pass, evidence: str) -> Fail:
    rollback = p.status["rollback"]
    detected = parse_timestamp(rollback.get("detectedAt"))
    rollback["recoveredAt"] = timestamp(p.now)
    rollback["recoverySeconds"] = round((p.now - detected).total_seconds(), 3) if detected else 0.0
    cause = rollback.get("message") or rollback["reason"]
    message = f"rolled back to revision {rollback['toRevision']} after {cause}; {evidence}"
    return Fail("RolledBack", rollback["reason"], message)


# -- validation and conditions -----------------------------------------------


def spec_problem(spec: dict[str, Any]) -> str | None:
    """What the CRD schema cannot catch but makes the spec unworkable, or None."""
    template = spec.get("template") or {}
    containers = [c.get("name") for c in template.get("spec", {}).get("containers") or []]
    if not containers:
        return "spec.template.spec.containers is empty"
    name = spec.get("containerName")
    if name and api_container(template, name) is None:
        listed = ", ".join(containers)
        return f"containerName {name!r} is not a container of spec.template (containers: {listed})"
    if spec["loadTest"]["enabled"] and not spec.get("service"):
        return "spec.loadTest needs spec.service: the load test targets the release's Service"
    if spec["loadTest"]["enabled"] and not spec["loadTest"].get("image"):
        return "spec.loadTest.image is required when the load test is enabled"
    return None


def _domain(p: _Pass) -> list[tuple[str, bool, str, str]]:
    migrations = p.status.get("migrations") or {}
    expand_state = migrations.get("expand")
    applied = (
        (True, "ExpandApplied", "expand migrations applied")
        if expand_state == "Succeeded"
        else (True, "MigrationsDisabled", "migrations are disabled")
        if expand_state == "Skipped"
        else (False, "ExpandFailed", migrations.get("message", ""))
        if expand_state == "Failed"
        else (False, "Pending", "expand migrations have not run for this revision")
    )
    test = p.status.get("loadTest") or {}
    completed = p.status.get("completedSteps") or []
    verified = (
        (True, "LoadTestPassed", f"LoadTest {test.get('name')} passed")
        if test.get("phase") == "Passed"
        else (False, "LoadTestFailed", f"LoadTest {test.get('name')} {str(test.get('phase')).lower()}")
        if test.get("phase") in ("Failed", "Error")
        else (True, "NotConfigured", "no load test is configured")
        if "verify" in completed and not test
        else (False, "Pending", "the release has not been verified yet")
    )
    return [("MigrationsApplied", *applied), ("Verified", *verified)]


def _conditions(p: _Pass) -> list[dict[str, Any]]:
    phase = p.status.get("phase") or "Pending"
    message = p.status.get("message", "")
    reason = p.status.get("reason", phase)
    paused = p.spec["paused"] and phase not in TERMINAL
    table = {
        "Ready": (
            phase == "Succeeded",
            "Succeeded" if phase == "Succeeded" else reason if phase in FAILED else phase,
        ),
        "Reconciling": (phase not in TERMINAL and not paused, "Paused" if paused else phase),
        "Stalled": (phase in FAILED, phase if phase in FAILED else "Progressing"),
    }
    conditions: list[dict[str, Any]] = list(p.status.get("conditions") or [])
    for kind, (state, why) in table.items():
        conditions = set_condition(
            conditions,
            type=kind,
            status=state,
            reason=why,
            message=message,
            generation=p.generation,
            now=p.now,
        )
    for kind, state, why, text in _domain(p):
        conditions = set_condition(
            conditions, type=kind, status=state, reason=why, message=text, generation=p.generation, now=p.now
        )
    return conditions


# -- the planner ---------------------------------------------------------------


def hold(p: _Pass) -> None:
    """`spec.paused`: the release stays at its step, the Deployment is paused where it is, and
    health is still watched, so a crash loop is still rolled back."""
    phase = p.status.get("phase")
    p.status.setdefault("pausedAt", timestamp(p.now))
    p.status["message"] = f"paused in {phase}: no step starts until spec.paused is false"
    p.requeue(POLL_SECONDS)
    deployment = p.snap.deployment
    if deployment is None or phase not in ("RollingOut", "Verifying"):
        return
    if deployment_revision(deployment) == p.revision and (crash := _crashing(p)):
        p.start_rollback(crash)
        return
    if not (deployment.get("spec") or {}).get("paused"):
        pause = [{"op": "add", "path": "/spec/paused", "value": True}]
        p.act("patch", build_deployment(p.release), body=pause)


def resume(p: _Pass) -> None:
    """Back from a pause: the time spent paused does not count against the step's timeout."""
    paused_at = parse_timestamp(p.status.pop("pausedAt", None))
    started = parse_timestamp(p.status.get("phaseStartedAt"))
    if paused_at and started:
        p.status["phaseStartedAt"] = timestamp(started + (p.now - paused_at))
    deployment = p.snap.deployment
    if deployment is not None and (deployment.get("spec") or {}).get("paused"):
        unpause = [{"op": "add", "path": "/spec/paused", "value": False}]
        p.act("patch", build_deployment(p.release), body=unpause)


def keep_stable(p: _Pass) -> None:
    """After a release ended, the owned Deployment is kept at the stable revision (level-based)."""
    if p.status.get("phase") not in ("Succeeded", "RolledBack") or not p.status.get("stableTemplate"):
        return
    if p.spec["paused"]:
        return
    if _ensure_deployment(p, p.status["stableTemplate"], p.status["stableRevision"]):
        stable = p.status["stableRevision"]
        p.plan.events.append(
            Event("Normal", "DriftCorrected", f"Deployment {p.name} restored to revision {stable}")
        )
        p.requeue(POLL_SECONDS)


def plan_release(snapshot: ReleaseSnapshot) -> Plan:
    """Decide the next writes for one ApiRelease."""
    p = _Pass(snapshot)
    if p.status.get("observedGeneration") != p.generation:
        p.new_generation()
    elif p.held() and p.retry_annotation() == p.revision:
        p.retry()
    if problem := spec_problem(p.spec):
        if p.status.get("phase") != "Failed":
            p.finish(Fail("Failed", "InvalidSpec", problem))
        return p.result()
    p.consume_retry()
    if p.status.get("phase") in TERMINAL:
        keep_stable(p)
        return p.result()
    if p.status.get("phase") == "RollingBack":
        p.settle(rolling_back(p))
        return p.result()
    if p.spec["paused"]:
        hold(p)
        return p.result()
    resume(p)
    completed: list[str] = p.status.setdefault("completedSteps", [])
    for phase, key, step in STEPS:
        if key in completed:
            continue
        p.enter(phase)
        outcome = step(p)
        if isinstance(outcome, Done):
            completed.append(key)
            continue
        p.settle(outcome)
        return p.result()
    p.succeed()
    return p.result()


def plan_rejection(snapshot: ReleaseSnapshot, plan: Plan | None, refused: str) -> Plan:
    """The API refused a request for good (403, 422, ...): the release stops `Failed` with reason
    `ApiRejected` and the API's message, in the same pass. The revision is held like any failed
    one: a new template or the retry annotation (after fixing RBAC, say) starts it again."""
    old = dict(snapshot.release.get("status") or {})
    status = apply_merge_patch(old, plan.status) if plan else old
    p = _Pass(dataclasses.replace(snapshot, release={**snapshot.release, "status": status}))
    p.old = copy.deepcopy(old)
    p.finish(Fail("Failed", "ApiRejected", f"the API refused {refused}"))
    result = p.result()
    result.events = [*(plan.events if plan else []), *result.events]
    return result
