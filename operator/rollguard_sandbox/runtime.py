"""The local runtime: kubelet, Deployment and Job controllers and kube-proxy, in one reconcile loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import replace

from rollguard.kube import KubeClient
from rollguard_sandbox.controllers import DeploymentController, JobController, collect_orphans
from rollguard_sandbox.endpoints import PodEndpoints
from rollguard_sandbox.kubelet import NodeConfig
from rollguard_sandbox.node import Node
from rollguard_sandbox.proxy import ServiceProxies

log = logging.getLogger(__name__)


class LocalRuntime:
    """Plays the cluster's moving parts for an API server that only stores objects.

    `static_hosts` maps in-cluster names that are no Service here (the
    database) to local addresses, so that pod env and args reach them.
    """

    def __init__(
        self,
        client: KubeClient,
        config: NodeConfig,
        *,
        static_hosts: Mapping[str, str] | None = None,
        interval: float = 0.2,
    ) -> None:
        self.client = client
        self.static_hosts = dict(static_hosts or {})
        self.proxies = ServiceProxies(self._endpoints)
        self.node = Node(client, replace(config, hosts=self.hosts))
        self.deployments = DeploymentController(client)
        self.jobs = JobController(client)
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    def _endpoints(self) -> list[PodEndpoints]:
        return self.node.endpoints()

    def hosts(self) -> dict[str, str]:
        return {**self.static_hosts, **self.proxies.hosts()}

    async def sync_once(self) -> None:
        pods = await self.client.list("v1", "Pod", None)
        deployments = await self.client.list("apps/v1", "Deployment", None)
        jobs = await self.client.list("batch/v1", "Job", None)
        await self.node.sync(pods)
        await self.deployments.sync(deployments, pods)
        await self.jobs.sync(jobs, pods)
        owners = {
            (kind, obj["metadata"].get("namespace", "default"), obj["metadata"]["name"])
            for kind, objs in (("Deployment", deployments), ("Job", jobs))
            for obj in objs
        }
        await collect_orphans(self.client, pods, owners)
        await self.proxies.sync(await self.client.list("v1", "Service", None))

    async def _loop(self) -> None:
        while True:
            try:
                await self.sync_once()
            except Exception:
                log.exception("sandbox runtime pass failed; retrying")
            await asyncio.sleep(self.interval)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.proxies.close()
        await self.node.shutdown()
