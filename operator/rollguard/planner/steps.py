"""The steps a release walks in order: lint, expand, canary, roll out, verify, contract.

Each step reports `Done`, `Wait` or a failure; the walk stops at the first unfinished one.
A step the spec gives no work (migrations off, no load test) is recorded as done without
its phase ever being entered: no Event, no phase span."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rollguard.builders import (
    build_migration_job,
    build_verification_loadtest,
    migration_job_name,
)
from rollguard.builders.jobs import MigrationPhase
from rollguard.builders.spec import (
    APPROVE_CONTRACT_ANNOTATION,
    REVISION_LABEL,
    ROLE_LABEL,
)
from rollguard.planner.canary import canarying, retire, walk
from rollguard.planner.deployment import crashing, ensure_deployment
from rollguard.planner.health import rollout_verdict
from rollguard.planner.model import Event
from rollguard.planner.objects import (
    job_state,
    live_pods,
    revision_of_pod,
)
from rollguard.planner.state import (
    NEXT_PASS,
    UNSAFE_EXIT,
    Done,
    Fail,
    Outcome,
    ReleasePass,
    Rollback,
    Wait,
)


def migration_job(p: ReleasePass, phase: MigrationPhase, failure: tuple[str, str]) -> Outcome:
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


def _termination(p: ReleasePass, phase: MigrationPhase) -> tuple[int | None, str]:
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


def _other_migration_running(p: ReleasePass) -> str | None:
    """The name of a migration Job of another revision that is still running, if any."""
    for name, job in sorted(p.snap.jobs.items()):
        labels = job.get("metadata", {}).get("labels") or {}
        role = labels.get(ROLE_LABEL, "")
        other = role.startswith("migrate-") and labels.get(REVISION_LABEL) != p.revision
        if other and job_state(job)[0] == "running":
            return name
    return None


def lint(p: ReleasePass) -> Outcome:
    return migration_job(p, "lint", ("Blocked", "UnsafeMigration"))


def expand(p: ReleasePass) -> Outcome:
    return migration_job(p, "expand", ("Failed", "ExpandFailed"))


def rollout(p: ReleasePass) -> Outcome:
    if pending := ensure_deployment(p, None, p.revision):
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
        # A promoted canary (or one a changed strategy left behind) goes once the stable Deployment
        # runs the new revision on every replica.
        return retire(p) or Done()
    remaining = health["readyTimeoutSeconds"] - p.elapsed()
    # Woken by pod changes; the deadline itself is the one moment no change announces.
    return Wait(verdict.message, after=max(0.2, remaining + 0.1))


def verify(p: ReleasePass) -> Outcome:
    config = p.spec["loadTest"]
    if crash := crashing(p):
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
    summary.update(
        {key: stats[key] for key in ("p95Ms", "errorRatePercent", "requests", "workers") if key in stats}
    )
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


def contract(p: ReleasePass) -> Outcome:
    policy = p.spec["migrations"]["contractPolicy"]
    annotations = p.release["metadata"].get("annotations") or {}
    if policy == "Manual" and annotations.get(APPROVE_CONTRACT_ANNOTATION) != p.revision:
        p.status.setdefault("migrations", {})["contract"] = "AwaitingApproval"
        return Wait(
            "contract migrations wait for approval: "
            f"kubectl annotate apirelease {p.name} {APPROVE_CONTRACT_ANNOTATION}={p.revision}",
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


def _always(p: ReleasePass) -> bool:
    return True


def _linting(p: ReleasePass) -> bool:
    return bool(p.spec["migrations"]["enabled"] and p.spec["migrations"]["lint"])


def _migrating(p: ReleasePass) -> bool:
    return bool(p.spec["migrations"]["enabled"])


def _contracting(p: ReleasePass) -> bool:
    return _migrating(p) and p.spec["migrations"]["contractPolicy"] != "Never"


def _load_testing(p: ReleasePass) -> bool:
    return bool(p.spec["loadTest"]["enabled"])


@dataclass(frozen=True)
class Step:
    """One row of the table: the phase it runs in, its key in `status.completedSteps`, what it
    does, and whether the spec gives it anything to do."""

    phase: str
    key: str
    run: Callable[[ReleasePass], Outcome]
    has_work: Callable[[ReleasePass], bool] = _always

    def skip(self, p: ReleasePass) -> None:
        """Record a step without work as done; a migration phase says `Skipped` in the status."""
        if self.key in ("lint", "expand", "contract"):
            p.status.setdefault("migrations", {})[self.key] = "Skipped"


STEPS: tuple[Step, ...] = (
    Step("Linting", "lint", lint, _linting),
    Step("Expanding", "expand", expand, _migrating),
    Step("Canary", "canary", walk, canarying),
    Step("RollingOut", "rollout", rollout),
    Step("Verifying", "verify", verify, _load_testing),
    Step("Contracting", "contract", contract, _contracting),
)
