"""Reading the state of Jobs, pods and Deployments the way their controllers report it."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from fractions import Fraction
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
    if not observed_current(deployment):
        return False
    return (
        status.get("updatedReplicas", 0) >= replicas
        and status.get("availableReplicas", 0) >= replicas
        and status.get("replicas", 0) <= replicas
    )


def observed_current(deployment: Mapping[str, Any]) -> bool:
    """Whether the Deployment controller has seen the latest spec: only then is its status a verdict."""
    observed = (deployment.get("status") or {}).get("observedGeneration")
    generation = deployment.get("metadata", {}).get("generation")
    return observed is None or generation is None or observed >= generation


def progress_deadline_exceeded(deployment: Mapping[str, Any]) -> bool:
    """A Progressing=False/ProgressDeadlineExceeded condition of the current generation only."""
    if not observed_current(deployment):
        return False
    conditions = (deployment.get("status") or {}).get("conditions") or []
    return any(
        c.get("type") == "Progressing"
        and c.get("status") == "False"
        and c.get("reason") == "ProgressDeadlineExceeded"
        for c in conditions
    )


def template_drifted(desired: Any, live: Any) -> bool:
    """Whether the live object lost or changed something the desired one sets. Fields only the
    live object has (server-side defaults, other writers' additions) are not drift."""
    if isinstance(desired, Mapping):
        if not isinstance(live, Mapping):
            return True
        return any(key not in live or template_drifted(value, live[key]) for key, value in desired.items())
    if isinstance(desired, list):
        if not isinstance(live, list) or len(live) != len(desired):
            return True
        return any(template_drifted(want, have) for want, have in zip(desired, live, strict=True))
    if isinstance(desired, str) and isinstance(live, str) and desired != live:
        return quantity(desired) is None or quantity(desired) != quantity(live)
    return bool(desired != live)


_SUFFIXES = {
    "": 1,
    "m": 10**-3,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "E": 10**18,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
}
_QUANTITY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")


def quantity(text: str) -> Fraction | None:
    """A Kubernetes quantity as a number ("0.5" and "500m" are equal), or None if it is not one.
    The API server stores quantities in canonical form, so they are compared by value."""
    match = _QUANTITY.match(text)
    if not match:
        return None
    try:
        return Fraction(match.group(1)) * Fraction(_SUFFIXES[match.group(2) or ""])
    except ValueError:
        return None
