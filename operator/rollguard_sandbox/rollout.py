"""Deployment arithmetic: which pods a RollingUpdate creates or removes next, and the status it reports.

Pure functions of the desired state, the observed pods and the time, so the
controller that calls them only lists, creates and deletes.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


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
) -> dict[str, Any]:
    """The `status` a Deployment controller reports for these pods.

    `seconds_since_progress` is how long the rollout's counts have not moved;
    beyond `progress_deadline` an unfinished rollout reports ProgressDeadlineExceeded.
    """
    available_ok = counts.ready >= desired - max_unavailable
    if counts.complete(desired):
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
