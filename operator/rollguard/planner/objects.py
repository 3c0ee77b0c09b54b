"""Reading the state of Jobs, pods and Deployments the way their controllers report it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from rollguard.builders.spec import REVISION_LABEL

JobState = Literal["running", "succeeded", "failed"]


def job_state(job: Mapping[str, Any]) -> tuple[JobState, str]:
    """Whether a Job is still running, succeeded or failed, with the controller's message."""
    status = job.get("status") or {}
    for cond in status.get("conditions") or []:
        if cond.get("status") != "True":
            continue
        if cond.get("type") in ("Complete", "SuccessCriteriaMet"):
            return "succeeded", cond.get("message", "")
        if cond.get("type") in ("Failed", "FailureTarget"):
            reason = cond.get("reason", "Failed")
            return "failed", f"{reason}: {cond.get('message', '')}".rstrip(": ")
    completions = (job.get("spec") or {}).get("completions", 1) or 1
    if status.get("succeeded", 0) >= completions:
        return "succeeded", ""
    if status.get("failed", 0) > (job.get("spec") or {}).get("backoffLimit", 0):
        return "failed", "the pod failed"
    return "running", ""


def revision_of_pod(pod: Mapping[str, Any]) -> str | None:
    return (pod.get("metadata", {}).get("labels") or {}).get(REVISION_LABEL)


def live_pods(pods: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Pods that count: not being deleted and not finished."""
    return [
        pod
        for pod in pods
        if not pod.get("metadata", {}).get("deletionTimestamp")
        and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
    ]


def pod_ready(pod: Mapping[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def pod_restarts(pod: Mapping[str, Any]) -> int:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return sum(int(s.get("restartCount", 0)) for s in statuses)


def deployment_revision(deployment: Mapping[str, Any]) -> str | None:
    template = deployment.get("spec", {}).get("template", {})
    return (template.get("metadata", {}).get("labels") or {}).get(REVISION_LABEL)


def deployment_available(deployment: Mapping[str, Any], replicas: int) -> bool:
    """Every replica updated and available, and no surplus pod of an older ReplicaSet left."""
    status = deployment.get("status") or {}
    observed = status.get("observedGeneration")
    generation = deployment.get("metadata", {}).get("generation")
    if observed is not None and generation is not None and observed < generation:
        return False
    return (
        status.get("updatedReplicas", 0) >= replicas
        and status.get("availableReplicas", 0) >= replicas
        and status.get("replicas", 0) <= replicas
    )


def progress_deadline_exceeded(deployment: Mapping[str, Any]) -> bool:
    conditions = (deployment.get("status") or {}).get("conditions") or []
    return any(
        c.get("type") == "Progressing"
        and c.get("status") == "False"
        and c.get("reason") == "ProgressDeadlineExceeded"
        for c in conditions
    )
