"""The Deployment and Job controllers of the sandbox: pods from templates, and status from pods."""

from __future__ import annotations

import asyncio
import datetime
import secrets
import time
import uuid
from collections.abc import Mapping
from typing import Any

from rollguard.kube import ApiError, KubeClient
from rollguard_sandbox.kubelet import FINALIZER, now_stamp
from rollguard_sandbox.rollout import (
    PodView,
    RolloutCounts,
    deployment_status,
    plan_rollout,
    surge_limits,
    template_hash,
)

HASH_LABEL = "pod-template-hash"
# (apiVersion, kind) of the owners whose pods these controllers make.
DEPLOYMENT = ("apps/v1", "Deployment")
JOB = ("batch/v1", "Job")


def owner_of(obj: Mapping[str, Any]) -> tuple[str, str] | None:
    for ref in obj.get("metadata", {}).get("ownerReferences") or ():
        if ref.get("controller", True):
            return str(ref.get("kind")), str(ref.get("name"))
    return None


def pod_ready(pod: Mapping[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or ()
    return any(cond.get("type") == "Ready" and cond.get("status") == "True" for cond in conditions)


def _created(obj: Mapping[str, Any]) -> float:
    stamp = obj.get("metadata", {}).get("creationTimestamp")
    if not stamp:
        return 0.0
    return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


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
            "uid": str(uuid.uuid4()),
            "creationTimestamp": now_stamp(),
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


async def patch_status(
    client: KubeClient, kind: tuple[str, str], namespace: str, name: str, status: Mapping[str, Any]
) -> None:
    """Write an object's status; one deleted meanwhile has none to write."""
    try:
        await client.patch(*kind, namespace, name, {"status": dict(status)}, subresource="status")
    except ApiError as error:
        if error.status != 404:
            raise


def _suffix() -> str:
    return secrets.token_hex(3)[:5]


def _owned(pods: list[dict[str, Any]], kind: str, owner: Mapping[str, Any]) -> list[dict[str, Any]]:
    namespace = owner["metadata"].get("namespace", "default")
    name = owner["metadata"]["name"]
    return [
        pod
        for pod in pods
        if owner_of(pod) == (kind, name) and pod["metadata"].get("namespace", "default") == namespace
    ]


def _view(pod: Mapping[str, Any]) -> PodView:
    meta = pod["metadata"]
    return PodView(
        name=meta["name"],
        revision=(meta.get("labels") or {}).get(HASH_LABEL, ""),
        ready=pod_ready(pod),
        terminating=bool(meta.get("deletionTimestamp")),
        created=_created(pod),
    )


class DeploymentController:
    """RollingUpdate Deployments, with pods owned by the Deployment (no ReplicaSet objects)."""

    def __init__(self, client: KubeClient) -> None:
        self.client = client
        # (namespace, name) -> (counts signature, monotonic time of the last change, its timestamp)
        self._progress: dict[tuple[str, str], tuple[object, float, str]] = {}

    async def sync(self, deployments: list[dict[str, Any]], pods: list[dict[str, Any]]) -> None:
        await asyncio.gather(*(self._sync_one(deploy, pods) for deploy in deployments))

    async def _sync_one(self, deploy: dict[str, Any], pods: list[dict[str, Any]]) -> None:
        meta, spec = deploy["metadata"], deploy.get("spec") or {}
        if meta.get("deletionTimestamp"):
            return
        namespace, name = meta.get("namespace", "default"), meta["name"]
        template = spec.get("template") or {}
        desired = int(spec.get("replicas", 1))
        revision = template_hash(template)
        views = [_view(pod) for pod in _owned(pods, "Deployment", deploy)]
        surge, unavailable = surge_limits(spec.get("strategy"), desired)
        if not spec.get("paused"):
            step = plan_rollout(
                desired=desired, max_surge=surge, max_unavailable=unavailable, revision=revision, pods=views
            )
            for pod_name in step.delete:
                await self.client.delete("v1", "Pod", namespace, pod_name)
            for _ in range(step.create):
                pod = pod_from_template(
                    template,
                    owner=deploy,
                    kind=DEPLOYMENT,
                    name=f"{name}-{revision}-{_suffix()}",
                    labels={HASH_LABEL: revision},
                )
                await self.client.create(pod)

        counts = RolloutCounts.of(views, revision)
        signature = (revision, desired, counts)
        key = (namespace, name)
        previous = self._progress.get(key)
        if previous is None or previous[0] != signature:
            previous = (signature, time.monotonic(), now_stamp())
            self._progress[key] = previous
        status = deployment_status(
            name=name,
            desired=desired,
            max_unavailable=unavailable,
            counts=counts,
            generation=int(meta.get("generation", 1)),
            seconds_since_progress=time.monotonic() - previous[1],
            progress_deadline=float(spec.get("progressDeadlineSeconds", 600)),
            progress_stamp=previous[2],
        )
        if status != deploy.get("status"):
            await patch_status(self.client, DEPLOYMENT, namespace, name, status)


def _condition(kind: str, reason: str, message: str) -> dict[str, str]:
    stamp = now_stamp()
    return {
        "type": kind,
        "status": "True",
        "reason": reason,
        "message": message,
        "lastProbeTime": stamp,
        "lastTransitionTime": stamp,
    }


def job_finished(job: Mapping[str, Any]) -> bool:
    conditions = (job.get("status") or {}).get("conditions") or ()
    return any(c.get("type") in {"Complete", "Failed"} and c.get("status") == "True" for c in conditions)


class JobController:
    """Jobs with one completion: a pod per attempt, `backoffLimit` and `activeDeadlineSeconds`."""

    def __init__(self, client: KubeClient) -> None:
        self.client = client

    async def sync(self, jobs: list[dict[str, Any]], pods: list[dict[str, Any]]) -> None:
        await asyncio.gather(*(self._sync_one(job, pods) for job in jobs))

    async def _sync_one(self, job: dict[str, Any], pods: list[dict[str, Any]]) -> None:
        meta, spec = job["metadata"], job.get("spec") or {}
        if meta.get("deletionTimestamp") or job_finished(job):
            return
        namespace, name = meta.get("namespace", "default"), meta["name"]
        owned = _owned(pods, "Job", job)
        phases = [(pod.get("status") or {}).get("phase") for pod in owned]
        active = [
            pod
            for pod, phase in zip(owned, phases, strict=True)
            if phase not in {"Succeeded", "Failed"} and not pod["metadata"].get("deletionTimestamp")
        ]
        succeeded, failed = phases.count("Succeeded"), phases.count("Failed")
        status = dict(job.get("status") or {})
        status.setdefault("startTime", now_stamp())
        elapsed = time.time() - _created({"metadata": {"creationTimestamp": status["startTime"]}})
        deadline = spec.get("activeDeadlineSeconds")

        finished: dict[str, str] | None = None
        if succeeded >= int(spec.get("completions", 1)):
            finished = _condition("Complete", "Completed", "Job completed")
        elif failed > int(spec.get("backoffLimit", 6)):
            finished = _condition(
                "Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit"
            )
        elif deadline is not None and elapsed > float(deadline):
            finished = _condition(
                "Failed", "DeadlineExceeded", "Job was active longer than specified deadline"
            )
        elif not active:
            labels = {
                "job-name": name,
                "batch.kubernetes.io/job-name": name,
                "controller-uid": meta.get("uid", ""),
            }
            pod = pod_from_template(
                spec.get("template") or {}, owner=job, kind=JOB, name=f"{name}-{_suffix()}", labels=labels
            )
            pod["spec"].setdefault("restartPolicy", "Never")
            await self.client.create(pod)
            active = [pod]

        if finished is not None:
            for pod in active:
                await self.client.delete("v1", "Pod", namespace, pod["metadata"]["name"])
            active = []
            status["conditions"] = [*(status.get("conditions") or []), finished]
            if finished["type"] == "Complete":
                status["completionTime"] = now_stamp()
        status.update(active=len(active), succeeded=succeeded, failed=failed)
        if status != job.get("status"):
            await patch_status(self.client, JOB, namespace, name, status)


async def collect_orphans(
    client: KubeClient, pods: list[dict[str, Any]], owners: set[tuple[str, str, str]]
) -> None:
    """Delete pods whose Deployment or Job is gone: the garbage collector's part."""
    for pod in pods:
        owner = owner_of(pod)
        namespace = pod["metadata"].get("namespace", "default")
        if owner is None or pod["metadata"].get("deletionTimestamp"):
            continue
        if (owner[0], namespace, owner[1]) not in owners:
            await client.delete("v1", "Pod", namespace, pod["metadata"]["name"])
