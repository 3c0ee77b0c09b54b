"""The Deployment and Job controllers: pods from templates, and status from pods, through the API.

The rules are workloads.py's; these classes only read what they are given,
create, delete and patch. The sandbox's runtime and the tests' fake cluster
both run them, each with its own kubelet.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rollguard.kube import ApiError, KubeClient
from rollguard_sandbox.workloads import (
    DEPLOYMENT,
    HASH_LABEL,
    JOB,
    RolloutCounts,
    deployment_status,
    job_finished,
    job_pod,
    now_stamp,
    owner_of,
    plan_job,
    plan_rollout,
    pod_from_template,
    pod_suffix,
    pod_view,
    pods_by_owner,
    surge_limits,
    template_hash,
)

# How long a Deployment or Job may take, in seconds: by default its spec's own field.
Deadline = Callable[[Mapping[str, Any]], float | None]


def progress_deadline(deploy: Mapping[str, Any]) -> float:
    return float((deploy.get("spec") or {}).get("progressDeadlineSeconds", 600))


def active_deadline(job: Mapping[str, Any]) -> float | None:
    deadline = (job.get("spec") or {}).get("activeDeadlineSeconds")
    return None if deadline is None else float(deadline)


async def patch_status(
    client: KubeClient, kind: tuple[str, str], namespace: str, name: str, status: Mapping[str, Any]
) -> dict[str, Any] | None:
    """Write an object's status; one deleted meanwhile has none to write (None)."""
    try:
        return await client.patch(*kind, namespace, name, {"status": dict(status)}, subresource="status")
    except ApiError as error:
        if error.status != 404:
            raise
        return None


class DeploymentController:
    """RollingUpdate Deployments, with pods owned by the Deployment (no ReplicaSet objects).

    `observe_delay` plays a controller that is late to see a new generation: for that many
    seconds the Deployment's status still describes the generation before."""

    def __init__(
        self, client: KubeClient, *, deadline: Deadline = progress_deadline, observe_delay: float = 0.0
    ) -> None:
        self.client = client
        self.deadline = deadline
        self.observe_delay = observe_delay
        # (namespace, name) -> (counts signature, monotonic time of the last change, its timestamp)
        self._progress: dict[tuple[str, str], tuple[object, float, str]] = {}
        self._noticed: dict[tuple[str, str, int], float] = {}

    async def sync(self, deployments: Sequence[dict[str, Any]], pods: Sequence[dict[str, Any]]) -> None:
        owned = pods_by_owner(pods)
        for deploy in deployments:
            meta = deploy["metadata"]
            key = ("Deployment", meta.get("namespace", "default"), meta["name"])
            await self._sync_one(deploy, owned.get(key, []))

    async def _sync_one(self, deploy: dict[str, Any], pods: list[dict[str, Any]]) -> None:
        meta, spec = deploy["metadata"], deploy.get("spec") or {}
        if meta.get("deletionTimestamp"):
            return
        namespace, name = meta.get("namespace", "default"), meta["name"]
        generation = int(meta.get("generation", 1))
        noticed = self._noticed.setdefault((namespace, name, generation), time.monotonic())
        if time.monotonic() - noticed < self.observe_delay:
            return
        template = spec.get("template") or {}
        desired = int(spec.get("replicas", 1))
        revision = template_hash(template)
        views = [pod_view(pod) for pod in pods]
        surge, unavailable = surge_limits(spec.get("strategy"), desired)
        paused = bool(spec.get("paused"))
        if not paused:
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
                    name=f"{name}-{revision}-{pod_suffix()}",
                    labels={HASH_LABEL: revision},
                )
                await self.client.create(pod)

        counts = RolloutCounts.of(views, revision)
        signature = (revision, desired, counts)
        previous = self._progress.get((namespace, name))
        if previous is None or previous[0] != signature:
            previous = (signature, time.monotonic(), now_stamp())
            self._progress[namespace, name] = previous
        status = deployment_status(
            name=name,
            desired=desired,
            max_unavailable=unavailable,
            counts=counts,
            generation=int(meta.get("generation", 1)),
            seconds_since_progress=time.monotonic() - previous[1],
            progress_deadline=self.deadline(deploy) or 0.0,
            progress_stamp=previous[2],
            paused=paused,
        )
        if status != deploy.get("status"):
            await patch_status(self.client, DEPLOYMENT, namespace, name, status)


class JobController:
    """Jobs: `parallelism` pods at a time, `completions`, `backoffLimit` and `activeDeadlineSeconds`."""

    def __init__(self, client: KubeClient, *, deadline: Deadline = active_deadline) -> None:
        self.client = client
        self.deadline = deadline

    async def sync(self, jobs: Sequence[dict[str, Any]], pods: Sequence[dict[str, Any]]) -> None:
        owned = pods_by_owner(pods)
        for job in jobs:
            meta = job["metadata"]
            await self._sync_one(job, owned.get(("Job", meta.get("namespace", "default"), meta["name"]), []))

    async def _sync_one(self, job: dict[str, Any], pods: list[dict[str, Any]]) -> None:
        meta = job["metadata"]
        if meta.get("deletionTimestamp") or job_finished(job):
            return
        namespace, name = meta.get("namespace", "default"), meta["name"]
        step = plan_job(job, pods, now=time.time(), deadline=self.deadline(job))
        for pod_name in step.delete:
            await self.client.delete("v1", "Pod", namespace, pod_name)
        for _ in range(step.create):
            await self.client.create(job_pod(job))
        if step.status != job.get("status"):
            await patch_status(self.client, JOB, namespace, name, step.status)


async def collect_orphans(
    client: KubeClient, pods: Sequence[dict[str, Any]], owners: set[tuple[str, str, str]]
) -> None:
    """Delete pods whose Deployment or Job is gone: the garbage collector's part."""
    for pod in pods:
        owner = owner_of(pod)
        namespace = pod["metadata"].get("namespace", "default")
        if owner is None or pod["metadata"].get("deletionTimestamp"):
            continue
        if (owner[0], namespace, owner[1]) not in owners:
            await client.delete("v1", "Pod", namespace, pod["metadata"]["name"])
