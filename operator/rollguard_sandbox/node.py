"""The node: starts a `PodWorker` for every pod it sees and releases the pods that are deleted."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from localdb import free_port
from rollguard.kube import KubeClient
from rollguard_sandbox.endpoints import PodEndpoints
from rollguard_sandbox.kubelet import NodeConfig, PodWorker
from rollguard_sandbox.scrape import ScrapedPod, file_sd_text
from rollguard_sandbox.workloads import finalizer_release

log = logging.getLogger(__name__)

FINAL_PHASES = {"Succeeded", "Failed"}

PodKey = tuple[str, str]


def pod_key(pod: dict[str, Any]) -> PodKey:
    meta = pod["metadata"]
    return meta.get("namespace", "default"), meta["name"]


class Node:
    """All pods of the sandbox run here."""

    def __init__(self, client: KubeClient, config: NodeConfig) -> None:
        self.client = client
        self.config = config
        self.workers: dict[PodKey, PodWorker] = {}
        self._releasing: dict[PodKey, asyncio.Task[None]] = {}
        self._targets_text = ""

    def endpoints(self) -> list[PodEndpoints]:
        return [worker.endpoints() for worker in self.workers.values()]

    async def sync(self, pods: list[dict[str, Any]]) -> None:
        seen = set()
        for pod in pods:
            key = pod_key(pod)
            seen.add(key)
            meta = pod["metadata"]
            if meta.get("deletionTimestamp"):
                if key not in self._releasing:
                    self._releasing[key] = asyncio.create_task(self._release(key, pod))
            elif key not in self.workers and (pod.get("status") or {}).get("phase") not in FINAL_PHASES:
                self._start(pod)
        for key in list(self.workers):
            if key not in seen and key not in self._releasing:
                self._releasing[key] = asyncio.create_task(self._release(key, None))
        for key, task in list(self._releasing.items()):
            if task.done():
                del self._releasing[key]
        self._write_targets()

    def _write_targets(self) -> None:
        """The pods that serve metrics, for Prometheus' file-based discovery (written on change only)."""
        path = self.config.scrape_targets
        if path is None:
            return
        text = file_sd_text(
            ScrapedPod(worker.namespace, worker.name, worker.labels, worker.endpoints().ports)
            for worker in self.workers.values()
            if not worker.stopping
        )
        if text == self._targets_text:
            return
        partial = path.with_suffix(".tmp")
        partial.write_text(text)
        partial.replace(path)  # atomic: Prometheus never reads half a file
        self._targets_text = text

    def _start(self, pod: dict[str, Any]) -> None:
        count = sum(
            len(container.get("ports") or ()) for container in pod.get("spec", {}).get("containers") or ()
        )
        worker = PodWorker(pod, self.client, self.config, [free_port() for _ in range(count)])
        worker.task = asyncio.create_task(worker.run())
        self.workers[pod_key(pod)] = worker
        log.debug("started pod %s/%s", worker.namespace, worker.name)

    async def _release(self, key: PodKey, pod: dict[str, Any] | None) -> None:
        """Stop the pod's containers, then drop our finalizer so the API server removes the pod."""
        worker = self.workers.get(key)
        if worker is not None:
            await worker.terminate()
            worker.cleanup_files()
            self.workers.pop(key, None)
        if pod is not None and (patch := finalizer_release(pod)) is not None:
            with contextlib.suppress(Exception):
                await self.client.patch("v1", "Pod", key[0], key[1], patch)

    async def shutdown(self) -> None:
        """Stop every pod now (without the drain delay), e.g. when the sandbox exits."""
        for worker in self.workers.values():
            worker.grace = min(worker.grace, 5.0)
        await asyncio.gather(
            *(worker.terminate() for worker in self.workers.values()), return_exceptions=True
        )
        await asyncio.gather(*self._releasing.values(), return_exceptions=True)
        self.workers.clear()
