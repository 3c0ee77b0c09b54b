"""The cluster's moving parts for the operator's tests: the sandbox's controllers, and a scripted kubelet.

The Deployment and Job controllers are the sandbox's own (rollguard_sandbox.controllers,
whose rules are rollguard_sandbox.workloads); in place of the sandbox's kubelet, which
runs real processes, a kubelet here reports pod readiness, restarts and exits as a test
scripts them per image and per Job, and writes the Locust master's termination message.
It talks to the emulator with the operator's own client, and serves the release's
Service on a local port, so the operator's recovery check makes real HTTP requests.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import http.server
import json
import threading
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from rollguard.builders.spec import RELEASE_LABEL, REVISION_LABEL, ROLE_LABEL
from rollguard.kube import ApiError, KubeClient, plural_of
from rollguard_sandbox.controllers import (
    DeploymentController,
    JobController,
    active_deadline,
    progress_deadline,
)
from rollguard_sandbox.workloads import (
    finalizer_release,
    now_stamp,
    owner_of,
    pod_ready,
    pod_status,
    terminated_state,
)

PASSED_SUMMARY = {
    "verdict": "passed",
    "reasons": [],
    "requests": 1520,
    "failures": 0,
    "errorRatePercent": 0.0,
    "p50Ms": 21,
    "p95Ms": 88,
    "p99Ms": 140,
    "rps": 50.1,
    "worst": [{"name": "GET /api/v1/claims/", "p95Ms": 120, "failures": 0}],
    "thresholds": {"p95Ms": 500, "errorRatePercent": 5},
}
# What the controllers follow: plural -> (apiVersion, kind).
_FOLLOWED = {"pods": ("v1", "Pod"), "deployments": ("apps/v1", "Deployment"), "jobs": ("batch/v1", "Job")}
FAILED_SUMMARY = {
    **PASSED_SUMMARY,
    "verdict": "failed",
    "reasons": ["p95 912 ms > 500 ms"],
    "p95Ms": 912,
}


def _comparable(status: dict[str, Any]) -> tuple[Any, bool, list[Any]]:
    """What a status says, without its timestamps."""
    restarts = [c.get("restartCount") for c in status.get("containerStatuses", [])]
    return status.get("phase"), pod_ready({"status": status}), restarts


@dataclass
class Script:
    """What the cluster does. Pods are scripted by image, Jobs by role label or name."""

    # image -> "ready" | "never-ready" | "crashloop" | "deadline"
    pods: dict[str, str] = field(default_factory=dict)
    # role label (migrate-lint, migrate-expand, migrate-contract, master, worker) or Job name
    #   -> "succeed" | "fail" | "hang" | "crash" | "deadline"
    jobs: dict[str, str] = field(default_factory=dict)
    master_message: str = json.dumps(PASSED_SUMMARY)
    ready_after: float = 0.2
    job_seconds: float = 0.2
    crash_every: float = 0.15
    # The restart count at which a crash loop decides the release's health (maxRestarts + 1).
    decisive_restarts: int = 3
    # How many /health/ready requests answer 503 before the Service is judged by its pods.
    health_failures: int = 0
    # Seconds the Deployment controller takes to notice a new Deployment generation.
    controller_lag: float = 0.0


class ServiceStub:
    """The release's Service on 127.0.0.1: 200 while some pod is Ready, 503 otherwise."""

    def __init__(self, cluster: FakeCluster) -> None:
        self.cluster = cluster
        self.requests = 0
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                stub.requests += 1
                healthy = stub.cluster.ready_pods > 0
                if stub.cluster.script.health_failures > 0:
                    stub.cluster.script.health_failures -= 1
                    healthy = False
                body = json.dumps({"ready": healthy}).encode()
                self.send_response(200 if healthy else 503)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> ServiceStub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class _WriteThrough(KubeClient):
    """The client, with every answer to a write kept in the cluster's cache at once (a watch event
    may come later), so that the controllers never plan twice on the state before their own write."""

    cluster: FakeCluster

    async def create(self, body: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        obj, created = await super().create(body)
        self.cluster.put(plural_of(body["kind"]), obj)
        return obj, created

    async def patch(self, api_version: str, kind: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        obj = await super().patch(api_version, kind, *args, **kwargs)
        self.cluster.put(plural_of(kind), obj)
        return obj

    async def delete(
        self, api_version: str, kind: str, namespace: str | None, name: str, propagation: str = "Background"
    ) -> None:
        await super().delete(api_version, kind, namespace, name, propagation)
        held = self.cluster.objects[plural_of(kind)].get(name)
        if held is not None and not held["metadata"].get("deletionTimestamp"):
            marked = {**held, "metadata": {**held["metadata"], "deletionTimestamp": now_stamp()}}
            self.cluster.objects[plural_of(kind)][name] = marked


class FakeCluster:
    """Plays the controllers and the kubelet for one namespace, one tick at a time.

    It follows pods, Deployments and Jobs through watches (as controllers do); a change is
    worked on at once, and time moves on by ticks."""

    def __init__(self, url: str, namespace: str, script: Script | None = None, tick: float = 0.05) -> None:
        self.url = url.rstrip("/")
        self.namespace = namespace
        self.script = script or Script()
        self.tick = tick
        # Pods started per Job, and the order in which Jobs got their first pod.
        self.job_runs: collections.Counter[str] = collections.Counter()
        self.job_order: list[str] = []
        self.ready_pods = 0
        # When the kubelet wrote the pod status that decides the release's health (for benchmarks).
        self.decisive_at: dict[str, float] = {}
        self._born: dict[str, tuple[float, str]] = {}
        self.errors: list[Exception] = []
        self.api_errors: list[Exception] = []
        self.stub: ServiceStub | None = None
        # Watch-fed state, by plural and name.
        self.objects: dict[str, dict[str, dict[str, Any]]] = {plural: {} for plural in _FOLLOWED}
        self._changed = asyncio.Event()
        self._client: _WriteThrough | None = None
        self._deployments: DeploymentController | None = None
        self._jobs: JobController | None = None

    def put(self, plural: str, obj: dict[str, Any]) -> None:
        """Keep the newest state of an object (a write's answer may overtake its watch event)."""
        if plural not in self.objects:
            return
        name = obj["metadata"]["name"]
        held = self.objects[plural].get(name)
        if held is not None and int(held["metadata"]["resourceVersion"]) > int(
            obj["metadata"]["resourceVersion"]
        ):
            return
        self.objects[plural][name] = obj
        self._changed.set()

    async def _follow(self, plural: str) -> None:
        """One watch, resumed from its last resourceVersion, started over after 410 Gone."""
        assert self._client is not None
        api_version, kind = _FOLLOWED[plural]
        version = ""
        while True:
            try:
                async for event in self._client.watch(
                    api_version, kind, self.namespace, resource_version=version or None, timeout_seconds=300
                ):
                    obj = event["object"]
                    if event["type"] == "ERROR":
                        version = ""
                        break
                    version = obj["metadata"].get("resourceVersion", version)
                    if event["type"] == "DELETED":
                        self.objects[plural].pop(obj["metadata"]["name"], None)
                        self._changed.set()
                    elif event["type"] != "BOOKMARK":
                        self.put(plural, obj)
            except ApiError as exc:
                self.api_errors.append(exc)
                if exc.status == 410:
                    version = ""
                await asyncio.sleep(self.tick)

    # -- the loop --------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[FakeCluster]:
        client = self._client = _WriteThrough.for_server(self.url, agent="fake-cluster")
        client.cluster = self
        self._deployments = DeploymentController(client, deadline=self._progress_deadline)
        self._jobs = JobController(client, deadline=self._active_deadline)
        followers = [asyncio.create_task(self._follow(plural)) for plural in _FOLLOWED]
        task = asyncio.create_task(self._loop())
        try:
            yield self
        finally:
            for running in (task, *followers):
                running.cancel()
            # Bounded: a task that lost its cancellation would otherwise hang the test's teardown.
            _, pending = await asyncio.wait({task, *followers}, timeout=5)
            await client.close()
            assert not pending, f"fake cluster tasks ignored their cancellation: {pending}"
            self._client = None
        if self.errors:
            raise self.errors[0]

    async def _loop(self) -> None:
        while True:
            self._changed.clear()
            try:
                await self.step()
            except ApiError as exc:
                self.api_errors.append(exc)  # the emulator may be failing requests on purpose
            except Exception as exc:
                self.errors.append(exc)
                raise
            # Like a controller's work queue: a change is worked on at once, time moves on by ticks.
            # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a cancellation
            # that arrives as its timeout fires, and this loop would then never end.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.tick):
                    await self._changed.wait()

    async def step(self) -> None:
        assert self._deployments is not None
        assert self._jobs is not None
        self._deployments.observe_delay = self.script.controller_lag
        await self._deployments.sync(list(self.objects["deployments"].values()), self._pods())
        await self._jobs.sync(list(self.objects["jobs"].values()), self._pods())
        for pod in self._pods():
            await self._kubelet(pod)
        self.ready_pods = sum(
            1
            for pod in self._pods()
            if (owner_of(pod) or ("",))[0] == "Deployment"
            and not pod["metadata"].get("deletionTimestamp")
            and pod_ready(pod)
        )

    def _pods(self) -> list[dict[str, Any]]:
        return list(self.objects["pods"].values())

    # -- what the script decides -------------------------------------------------

    def _behaviour(self, template: Mapping[str, Any]) -> str:
        image = template["spec"]["containers"][0]["image"]
        return self.script.pods.get(image, "ready")

    def _outcome(self, job: str, role: str) -> str:
        return self.script.jobs.get(job) or self.script.jobs.get(role) or "succeed"

    def _progress_deadline(self, deployment: Mapping[str, Any]) -> float:
        if self._behaviour(deployment["spec"]["template"]) == "deadline":
            return 0.0
        return progress_deadline(deployment)

    def _active_deadline(self, job: Mapping[str, Any]) -> float | None:
        role = (job["spec"]["template"]["metadata"].get("labels") or {}).get(ROLE_LABEL, "")
        if self._outcome(job["metadata"]["name"], role) == "deadline":
            return self.script.job_seconds
        return active_deadline(job)

    # -- the kubelet -------------------------------------------------------------

    async def _kubelet(self, pod: dict[str, Any]) -> None:
        assert self._client is not None
        meta = pod["metadata"]
        name = meta["name"]
        if meta.get("deletionTimestamp"):
            if (patch := finalizer_release(pod)) is not None:
                await self._patch_pod(name, patch)
            return
        owner = owner_of(pod)
        if owner is None or (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            return
        if name not in self._born:
            self._born[name] = (time.monotonic(), now_stamp())
            if owner[0] == "Job":
                if owner[1] not in self.job_runs:
                    self.job_order.append(owner[1])
                self.job_runs[owner[1]] += 1
        born, started_at = self._born[name]
        age = time.monotonic() - born
        if owner[0] == "Job":
            status = self._job_pod_status(pod, owner[1], age, started_at)
        else:
            status = self._server_pod_status(pod, age, started_at)
        if _comparable(pod.get("status") or {}) == _comparable(status):
            return
        await self._patch_pod(name, {"status": status}, subresource="status")
        if owner[0] != "Job":
            self._note_decisive(pod, status)

    async def _patch_pod(self, name: str, body: dict[str, Any], subresource: str | None = None) -> None:
        """Patch a pod; one that is gone meanwhile needs nothing more."""
        assert self._client is not None
        try:
            await self._client.patch("v1", "Pod", self.namespace, name, body, subresource=subresource)
        except ApiError as exc:
            if exc.status != 404:
                raise

    def _server_pod_status(self, pod: Mapping[str, Any], age: float, started_at: str) -> dict[str, Any]:
        behaviour = self._behaviour(pod)
        restarts = 0
        ready = False
        waiting: dict[str, Any] | None = None
        if behaviour == "ready":
            ready = age >= self.script.ready_after
        elif behaviour == "crashloop":
            restarts = int(age / self.script.crash_every)
            waiting = {"reason": "CrashLoopBackOff", "message": "back-off restarting failed container"}
        container = pod["spec"]["containers"][0]
        state = {"waiting": waiting} if waiting else {"running": {"startedAt": started_at}}
        return pod_status(
            phase="Running",
            ready=ready,
            started_at=started_at,
            containers=[
                {
                    "name": container["name"],
                    "image": container["image"],
                    "ready": ready,
                    "started": waiting is None,
                    "restartCount": restarts,
                    "state": state,
                }
            ],
        )

    def _note_decisive(self, pod: Mapping[str, Any], status: Mapping[str, Any]) -> None:
        behaviour = self._behaviour(pod)
        restarts = status["containerStatuses"][0]["restartCount"]
        if (behaviour == "crashloop" and restarts >= self.script.decisive_restarts) or (
            behaviour == "ready" and pod_ready({"status": status})
        ):
            labels = pod["metadata"].get("labels") or {}
            key = f"{labels.get(RELEASE_LABEL, '')}/{labels.get(REVISION_LABEL)}"
            self.decisive_at.setdefault(key, time.monotonic())

    def _job_pod_status(
        self, pod: Mapping[str, Any], job: str, age: float, started_at: str
    ) -> dict[str, Any]:
        container = pod["spec"]["containers"][0]
        role = (pod["metadata"].get("labels") or {}).get(ROLE_LABEL, "")
        outcome = self._outcome(job, role)
        entry = {"name": container["name"], "image": container["image"], "ready": False, "restartCount": 0}
        if age < self.script.job_seconds or outcome in ("hang", "deadline"):
            running = {**entry, "started": True, "state": {"running": {"startedAt": started_at}}}
            return pod_status(phase="Running", ready=False, started_at=started_at, containers=[running])
        code = {"succeed": 0, "fail": 2, "crash": 1}[outcome]
        message = self.script.master_message if role == "master" else json.dumps({"phase": role, "ok": True})
        if outcome == "crash":
            message = ""
        elif outcome == "fail" and role != "master":
            message = json.dumps({"phase": role, "ok": False, "unsafe": ["0042_drop_column"]})
        terminated = {
            **entry,
            "started": False,
            "state": {"terminated": terminated_state(code, message, started_at)},
        }
        phase = "Succeeded" if code == 0 else "Failed"
        return pod_status(phase=phase, ready=False, started_at=started_at, containers=[terminated])
