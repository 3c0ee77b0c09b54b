"""The health verdict on a rollout: healthy, still progressing, or failed with a reason."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from rollguard.planner.objects import (
    deployment_available,
    live_pods,
    pod_ready,
    pod_restarts,
    progress_deadline_exceeded,
    revision_of_pod,
)


@dataclass(frozen=True)
class Verdict:
    state: Literal["healthy", "progressing", "failed"]
    reason: str
    message: str


def rollout_verdict(
    *,
    deployment: Mapping[str, Any],
    pods: Sequence[Mapping[str, Any]],
    revision: str,
    replicas: int,
    max_restarts: int,
    ready_timeout_seconds: float,
    elapsed_seconds: float,
) -> Verdict:
    """Judge the pods of `revision`: crash loops and deadlines fail it, full availability passes it."""
    new_pods = [pod for pod in live_pods(pods) if revision_of_pod(pod) == revision]
    for pod in new_pods:
        restarts = pod_restarts(pod)
        if restarts > max_restarts:
            name = pod.get("metadata", {}).get("name", "?")
            return Verdict(
                "failed", "CrashLoop", f"pod {name} restarted {restarts} times (at most {max_restarts})"
            )
    if progress_deadline_exceeded(deployment):
        return Verdict("failed", "ProgressDeadlineExceeded", "the Deployment exceeded its progress deadline")
    ready = sum(1 for pod in new_pods if pod_ready(pod))
    if deployment_available(deployment, replicas) and ready >= replicas:
        return Verdict("healthy", "Available", f"{ready} of {replicas} pods of {revision} Ready")
    if elapsed_seconds > ready_timeout_seconds:
        return Verdict(
            "failed",
            "ReadyTimeout",
            f"{ready} of {replicas} pods of {revision} Ready after {ready_timeout_seconds:g}s",
        )
    return Verdict("progressing", "Progressing", f"{ready} of {replicas} pods of {revision} Ready")
