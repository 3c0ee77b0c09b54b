"""How workloads behave, as pure rules: the simulation that the sandbox and the tests' fake cluster share.

Which pods a RollingUpdate creates or removes next and the status its
Deployment reports; when a Job starts a pod, completes or fails; how pods are
made from templates and owned; the status a kubelet reports for a pod. Pure
functions of the desired state, the observed pods and the time, so that the
controllers that call them (controllers.py) only list, create and delete, and
the kubelets (the sandbox's real processes, the tests' scripted pods) only say
what their containers do.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# The kubelet's finalizer on every pod the controllers make: deletion waits for the drain.
FINALIZER = "sandbox.rollguard.dev/kubelet"
HASH_LABEL = "pod-template-hash"
# (apiVersion, kind) of the owners whose pods the controllers make.
DEPLOYMENT = ("apps/v1", "Deployment")
JOB = ("batch/v1", "Job")


def now_stamp() -> str:
    return datetime.datetime.now(tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def stamp_seconds(stamp: str | None) -> float:
    """A `creationTimestamp`-style stamp as epoch seconds (0 when absent)."""
    if not stamp:
        return 0.0
    return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


# -- owners and pods ---------------------------------------------------------------


def owner_of(obj: Mapping[str, Any]) -> tuple[str, str] | None:
    """(kind, name) of an object's controller."""
    for ref in obj.get("metadata", {}).get("ownerReferences") or ():
        if ref.get("controller", True):
            return str(ref.get("kind")), str(ref.get("name"))
    return None


OwnerKey = tuple[str, str, str]


def pods_by_owner(pods: Sequence[dict[str, Any]]) -> dict[OwnerKey, list[dict[str, Any]]]:
    """Pods by (owner kind, namespace, owner name), so that each owner finds its own without a scan."""
    index: dict[OwnerKey, list[dict[str, Any]]] = {}
    for pod in pods:
        if owner := owner_of(pod):
            key = (owner[0], pod["metadata"].get("namespace", "default"), owner[1])
            index.setdefault(key, []).append(pod)
    return index


def pod_ready(pod: Mapping[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or ()
    return any(cond.get("type") == "Ready" and cond.get("status") == "True" for cond in conditions)


def pod_suffix() -> str:
    return secrets.token_hex(3)[:5]


def pod_from_template(
    template: Mapping[str, Any],
    *,
    owner: Mapping[str, Any],
    kind: tuple[str, str],
    name: str,
    labels: Mapping[str, str],
) -> dict[str, Any]:
    """A pod for `owner`, carrying the kubelet's finalizer so that deletion waits for the drain."""
    meta = template.get("metadata") or {}
    owner_meta = owner["metadata"]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": owner_meta.get("namespace", "default"),
            "labels": {**(meta.get("labels") or {}), **labels},
            "annotations": dict(meta.get("annotations") or {}),
            "finalizers": [FINALIZER],
            "ownerReferences": [
                {
                    "apiVersion": kind[0],
                    "kind": kind[1],
                    "name": owner_meta["name"],
                    "uid": owner_meta.get("uid", ""),
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": dict(template.get("spec") or {}),
        "status": {"phase": "Pending"},
    }


def finalizer_release(pod: Mapping[str, Any]) -> dict[str, Any] | None:
    """The patch that lets a deleted pod go once the kubelet stopped it; None when not ours to hold."""
    finalizers = list(pod.get("metadata", {}).get("finalizers") or [])
    if FINALIZER not in finalizers:
        return None
    rest = [name for name in finalizers if name != FINALIZER]
    return {"metadata": {"finalizers": rest or None}}


def pod_status(
    *, phase: str, ready: bool, started_at: str, containers: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """The `status` a kubelet reports for a pod on this node."""
    flag = "True" if ready else "False"
    stamp = now_stamp()
    return {
        "phase": phase,
        "podIP": "127.0.0.1",
        "hostIP": "127.0.0.1",
        "startTime": started_at,
        "conditions": [
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": started_at},
            {"type": "Initialized", "status": "True", "lastTransitionTime": started_at},
            {"type": "ContainersReady", "status": flag, "lastTransitionTime": stamp},
            {"type": "Ready", "status": flag, "lastTransitionTime": stamp},
        ],
        "containerStatuses": [dict(container) for container in containers],
    }


def terminated_state(exit_code: int, message: str, started_at: str) -> dict[str, Any]:
    """A container's `state.terminated` (a negative code is a signal, reported as 128 + signal)."""
    return {
        "exitCode": exit_code if exit_code >= 0 else 128 - exit_code,
        "reason": "Completed" if exit_code == 0 else "Error",
        "message": message,
        "startedAt": started_at,
        "finishedAt": now_stamp(),
    }


# -- Deployments ---------------------------------------------------------------------


def template_hash(template: Mapping[str, Any]) -> str:
    """A short, stable hash of a pod template (the `pod-template-hash` label)."""
    digest = hashlib.sha256(json.dumps(template, sort_keys=True, separators=(",", ":")).encode())
    return digest.hexdigest()[:10]


def resolve_count(value: int | str | None, desired: int, *, default: str, round_up: bool) -> int:
    """An int-or-percent field (`maxSurge: 25%`) as a pod count; surge rounds up, unavailability down."""
    value = default if value is None else value
    if isinstance(value, int):
        return max(0, value)
    text = str(value).strip()
    if not text.endswith("%"):
        return max(0, int(text))
    scaled = desired * float(text[:-1]) / 100
    return max(0, math.ceil(scaled) if round_up else math.floor(scaled))


@dataclass(frozen=True)
class PodView:
    """What the rollout needs to know about one pod."""

    name: str
    revision: str
    ready: bool
    terminating: bool = False
    created: float = 0.0


@dataclass(frozen=True)
class RolloutStep:
    create: int
    delete: tuple[str, ...]


def surge_limits(strategy: Mapping[str, Any] | None, desired: int) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) of a Deployment strategy; both zero would deadlock, so surge becomes 1."""
    rolling = (strategy or {}).get("rollingUpdate") or {}
    surge = resolve_count(rolling.get("maxSurge"), desired, default="25%", round_up=True)
    unavailable = resolve_count(rolling.get("maxUnavailable"), desired, default="25%", round_up=False)
    if surge == 0 and unavailable == 0:
        surge = 1
    return surge, unavailable


def plan_rollout(
    *, desired: int, max_surge: int, max_unavailable: int, revision: str, pods: Sequence[PodView]
) -> RolloutStep:
    """The next step of a RollingUpdate towards `desired` Ready pods of `revision`.

    Old pods go only while enough Ready pods remain (`desired - maxUnavailable`);
    old pods that are not Ready go at once, since they serve nobody.
    """
    active = [pod for pod in pods if not pod.terminating]
    new = [pod for pod in active if pod.revision == revision]
    old = [pod for pod in active if pod.revision != revision]
    delete: list[str] = []

    excess_new = len(new) - desired
    if excess_new > 0:
        surplus = sorted(new, key=lambda pod: (pod.ready, -pod.created))[:excess_new]
        delete += [pod.name for pod in surplus]
        new = [pod for pod in new if pod.name not in delete]

    delete += [pod.name for pod in old if not pod.ready]
    old_ready = sorted((pod for pod in old if pod.ready), key=lambda pod: pod.created)
    available = sum(pod.ready for pod in new) + len(old_ready)
    removable = max(0, available - (desired - max_unavailable))
    delete += [pod.name for pod in old_ready[:removable]]

    remaining = len(active) - len(delete)
    create = max(0, min(desired - len(new), desired + max_surge - remaining))
    return RolloutStep(create=create, delete=tuple(delete))


@dataclass(frozen=True)
class RolloutCounts:
    replicas: int
    updated: int
    ready: int
    old: int

    @classmethod
    def of(cls, pods: Sequence[PodView], revision: str) -> RolloutCounts:
        active = [pod for pod in pods if not pod.terminating]
        return cls(
            replicas=len(active),
            updated=sum(pod.revision == revision for pod in active),
            ready=sum(pod.ready for pod in active),
            old=sum(pod.revision != revision for pod in active),
        )

    def complete(self, desired: int) -> bool:
        return self.updated == desired and self.replicas == desired and self.ready == desired


def _condition(kind: str, status: bool, reason: str, message: str, since: str) -> dict[str, str]:
    return {
        "type": kind,
        "status": "True" if status else "False",
        "reason": reason,
        "message": message,
        "lastUpdateTime": since,
        "lastTransitionTime": since,
    }


def deployment_status(
    *,
    name: str,
    desired: int,
    max_unavailable: int,
    counts: RolloutCounts,
    generation: int,
    seconds_since_progress: float,
    progress_deadline: float,
    progress_stamp: str,
    paused: bool = False,
) -> dict[str, Any]:
    """The `status` a Deployment controller reports for these pods.

    `seconds_since_progress` is how long the rollout's counts have not moved;
    beyond `progress_deadline` an unfinished rollout reports ProgressDeadlineExceeded.
    A paused Deployment reports DeploymentPaused and no deadline.
    """
    available_ok = counts.ready >= desired - max_unavailable
    if paused:
        progressing = _condition(
            "Progressing", True, "DeploymentPaused", f'Deployment "{name}" is paused.', progress_stamp
        )
        progressing["status"] = "Unknown"
    elif counts.complete(desired):
        progressing = _condition(
            "Progressing",
            True,
            "NewReplicaSetAvailable",
            f'Deployment "{name}" has successfully progressed.',
            progress_stamp,
        )
    elif seconds_since_progress > progress_deadline:
        progressing = _condition(
            "Progressing",
            False,
            "ProgressDeadlineExceeded",
            f'Deployment "{name}" has timed out progressing.',
            progress_stamp,
        )
    else:
        progressing = _condition(
            "Progressing", True, "ReplicaSetUpdated", f'Deployment "{name}" is progressing.', progress_stamp
        )
    available = _condition(
        "Available",
        available_ok,
        "MinimumReplicasAvailable" if available_ok else "MinimumReplicasUnavailable",
        "Deployment has minimum availability."
        if available_ok
        else "Deployment does not have minimum availability.",
        progress_stamp,
    )
    return {
        "observedGeneration": generation,
        "replicas": counts.replicas,
        "updatedReplicas": counts.updated,
        "readyReplicas": counts.ready,
        "availableReplicas": counts.ready,
        "unavailableReplicas": max(0, desired - counts.ready),
        "conditions": [available, progressing],
    }


def pod_view(pod: Mapping[str, Any]) -> PodView:
    meta = pod["metadata"]
    return PodView(
        name=meta["name"],
        revision=(meta.get("labels") or {}).get(HASH_LABEL, ""),
        ready=pod_ready(pod),
        terminating=bool(meta.get("deletionTimestamp")),
        created=stamp_seconds(meta.get("creationTimestamp")),
    )


# -- Jobs ----------------------------------------------------------------------------


def job_finished(job: Mapping[str, Any]) -> bool:
    conditions = (job.get("status") or {}).get("conditions") or ()
    return any(c.get("type") in {"Complete", "Failed"} and c.get("status") == "True" for c in conditions)


def _job_condition(kind: str, reason: str, message: str) -> dict[str, str]:
    stamp = now_stamp()
    return {
        "type": kind,
        "status": "True",
        "reason": reason,
        "message": message,
        "lastProbeTime": stamp,
        "lastTransitionTime": stamp,
    }


@dataclass(frozen=True)
class JobStep:
    """What a Job controller does next: pods to start and to stop, and the status to report."""

    create: int
    delete: tuple[str, ...]
    status: dict[str, Any] = field(default_factory=dict)


def plan_job(
    job: Mapping[str, Any], pods: Sequence[Mapping[str, Any]], *, now: float, deadline: float | None
) -> JobStep:
    """The next step of a Job: `parallelism` pods at a time until `completions` succeeded, failed
    for good past `backoffLimit` failures or after `deadline` seconds (its activeDeadlineSeconds)."""
    spec = job.get("spec") or {}
    phases = [(pod.get("status") or {}).get("phase") for pod in pods]
    active = [
        pod["metadata"]["name"]
        for pod, phase in zip(pods, phases, strict=True)
        if phase not in {"Succeeded", "Failed"} and not pod["metadata"].get("deletionTimestamp")
    ]
    succeeded, failed = phases.count("Succeeded"), phases.count("Failed")
    completions = int(spec.get("completions", 1))
    status = dict(job.get("status") or {})
    status.setdefault("startTime", now_stamp())
    elapsed = now - stamp_seconds(status["startTime"])

    finished: dict[str, str] | None = None
    if succeeded >= completions:
        finished = _job_condition("Complete", "Completed", "Job completed")
    elif failed > int(spec.get("backoffLimit", 6)):
        finished = _job_condition(
            "Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit"
        )
    elif deadline is not None and elapsed > deadline:
        finished = _job_condition(
            "Failed", "DeadlineExceeded", "Job was active longer than specified deadline"
        )
    if finished is not None:
        status["conditions"] = [*(status.get("conditions") or []), finished]
        if finished["type"] == "Complete":
            status["completionTime"] = now_stamp()
        status.update(active=0, succeeded=succeeded, failed=failed)
        return JobStep(create=0, delete=tuple(active), status=status)
    wanted = min(int(spec.get("parallelism", 1)), completions - succeeded)
    create = max(0, wanted - len(active))
    status.update(active=len(active) + create, succeeded=succeeded, failed=failed)
    return JobStep(create=create, delete=(), status=status)


def job_pod(job: Mapping[str, Any]) -> dict[str, Any]:
    """One more pod of a Job, labelled as the Job controller labels them."""
    meta = job["metadata"]
    name = meta["name"]
    labels = {"job-name": name, "batch.kubernetes.io/job-name": name, "controller-uid": meta.get("uid", "")}
    template = (job.get("spec") or {}).get("template") or {}
    pod = pod_from_template(template, owner=job, kind=JOB, name=f"{name}-{pod_suffix()}", labels=labels)
    pod["spec"].setdefault("restartPolicy", "Never")
    return pod
