"""Rolling back: restore the stable revision, then prove recovery through the Service."""

from __future__ import annotations

from typing import Any

from rollguard.builders.spec import release_spec
from rollguard.planner.canary import scale_canary
from rollguard.planner.conditions import parse_timestamp, timestamp
from rollguard.planner.deployment import ensure_deployment
from rollguard.planner.model import ProbeTarget, ReleaseSnapshot
from rollguard.planner.objects import (
    deployment_available,
    deployment_revision,
)
from rollguard.planner.state import Fail, Outcome, ReleasePass, Wait, replicas_wanted


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


def rolling_back(p: ReleasePass) -> Outcome:
    stable = p.status["stableRevision"]
    # A canary's pods go at once; the stable Deployment gets its full replica count back.
    canary_pending = scale_canary(p, 0)
    if pending := ensure_deployment(p, p.status["stableTemplate"], stable) or canary_pending:
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


def _recovered(p: ReleasePass, evidence: str) -> Fail:
    rollback = p.status["rollback"]
    detected = parse_timestamp(rollback.get("detectedAt"))
    rollback["recoveredAt"] = timestamp(p.now)
    rollback["recoverySeconds"] = round((p.now - detected).total_seconds(), 3) if detected else 0.0
    cause = rollback.get("message") or rollback["reason"]
    message = f"rolled back to revision {rollback['toRevision']} after {cause}; {evidence}"
    return Fail("RolledBack", rollback["reason"], message)
