"""A scripted stand-in for the Deployment and Job controllers and the kubelet.

It talks to the emulator over HTTP like any controller: it turns Deployments
into pods, reports pod readiness and restarts, keeps the Deployment's status,
runs Jobs to the outcome a test scripts, and writes the Locust master's
termination message. It also serves the release's Service on a local port, so
the operator's recovery check makes real HTTP requests.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime
import http.server
import json
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from rollguard.builders.spec import RELEASE_LABEL, REVISION_LABEL, ROLE_LABEL

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
# Which Deployment made a pod (a ReplicaSet's owner reference, as far as this fake goes): a canary
# Deployment beside the stable one works on its own pods only.
OWNER_LABEL = "fake.rollguard.dev/deployment"
# What the controllers follow: plural -> (group/version, plural).
_FOLLOWED = {"pods": ("v1", "pods"), "deployments": ("apps/v1", "deployments"), "jobs": ("batch/v1", "jobs")}
FAILED_SUMMARY = {
    **PASSED_SUMMARY,
    "verdict": "failed",
    "reasons": ["p95 912 ms > 500 ms"],
    "p95Ms": 912,
}


def _comparable(status: dict[str, Any]) -> tuple[Any, list[Any]]:
    return status.get("conditions"), [c.get("restartCount") for c in status.get("containerStatuses", [])]


def _now() -> str:
    return datetime.datetime.now(tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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


class FakeCluster:
    """Plays the controllers and the kubelet for one namespace, one tick at a time.

    It follows pods, Deployments and Jobs through watches (as controllers do) and, each tick,
    works only on what changed or what time still changes (pods not yet Ready, crash loops,
    running Jobs): with hundreds of releases it stays cheap for the emulator and for itself."""

    def __init__(self, url: str, namespace: str, script: Script | None = None, tick: float = 0.05) -> None:
        self.url = url.rstrip("/")
        self.namespace = namespace
        self.script = script or Script()
        self.tick = tick
        self.job_runs: collections.Counter[str] = collections.Counter()
        self.job_order: list[str] = []
        self._ready: dict[str, int] = {}
        # When the kubelet wrote the pod status that decides the release's health (for benchmarks).
        self.decisive_at: dict[str, float] = {}
        self._born: dict[str, float] = {}
        # When the Deployment controller first saw each (Deployment, generation).
        self._noticed: dict[tuple[str, int], float] = {}
        self._session: aiohttp.ClientSession | None = None
        self.errors: list[Exception] = []
        self.api_errors: list[Exception] = []
        self.stub: ServiceStub | None = None
        # Watch-fed state, by plural and name; and the Deployments with nothing left to do.
        self._objects: dict[str, dict[str, dict[str, Any]]] = {plural: {} for plural in _FOLLOWED}
        self._settled: set[str] = set()
        # Changes seen so far: a Deployment is settled only if nothing changed while it was worked on.
        self._changes = 0
        self._changed = asyncio.Event()

    @property
    def ready_pods(self) -> int:
        """Ready pods behind the release's Service: every Deployment's."""
        return sum(self._ready.values())

    # -- HTTP ------------------------------------------------------------------

    def _ns(self, group_version: str, plural: str) -> str:
        root = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
        return f"{self.url}{root}/namespaces/{self.namespace}/{plural}"

    def _put(self, plural: str, obj: dict[str, Any]) -> None:
        """Keep the newest state of an object (a write's answer may overtake its watch event)."""
        name = obj["metadata"]["name"]
        held = self._objects[plural].get(name)
        if held is not None and int(held["metadata"]["resourceVersion"]) > int(
            obj["metadata"]["resourceVersion"]
        ):
            return
        self._objects[plural][name] = obj
        self._unsettle(plural, obj)

    def _unsettle(self, plural: str, obj: dict[str, Any]) -> None:
        self._changes += 1
        self._changed.set()
        if plural == "deployments":
            self._settled.discard(obj["metadata"]["name"])
        elif plural == "pods" and (release := (obj["metadata"].get("labels") or {}).get(RELEASE_LABEL)):
            for name, deployment in self._objects["deployments"].items():
                labels = deployment["spec"]["template"]["metadata"]["labels"]
                if labels.get(RELEASE_LABEL) == release:
                    self._settled.discard(name)

    async def _follow(self, group_version: str, plural: str) -> None:
        """One watch, resumed from its last resourceVersion, started over after 410 Gone."""
        assert self._session is not None
        version = ""
        while True:
            params = {"watch": "true", "timeoutSeconds": "300"}
            if version:
                params["resourceVersion"] = version
            try:
                async with self._session.get(
                    self._ns(group_version, plural), params=params, timeout=aiohttp.ClientTimeout(total=None)
                ) as response:
                    if response.status >= 400:
                        await response.read()
                        await asyncio.sleep(self.tick)
                        continue
                    async for line in response.content:
                        if not line.strip():
                            continue
                        event = json.loads(line)
                        obj = event["object"]
                        if event["type"] == "ERROR":
                            version = ""
                            break
                        version = obj["metadata"].get("resourceVersion", version)
                        if event["type"] == "DELETED":
                            self._objects[plural].pop(obj["metadata"]["name"], None)
                            self._unsettle(plural, obj)
                        elif event["type"] != "BOOKMARK":
                            self._put(plural, obj)
            except aiohttp.ClientError as exc:
                self.api_errors.append(exc)
                await asyncio.sleep(self.tick)

    async def _post(self, group_version: str, plural: str, body: dict[str, Any]) -> None:
        assert self._session is not None
        async with self._session.post(self._ns(group_version, plural), json=body) as response:
            if response.status < 300:
                self._put(plural, await response.json())
            else:
                await response.read()

    async def _patch(
        self, group_version: str, plural: str, name: str, body: dict[str, Any], status: bool
    ) -> None:
        assert self._session is not None
        url = f"{self._ns(group_version, plural)}/{name}" + ("/status" if status else "")
        headers = {"Content-Type": "application/merge-patch+json"}
        async with self._session.patch(url, json=body, headers=headers) as response:
            if response.status < 300:
                self._put(plural, await response.json())
            else:
                await response.read()

    async def _delete(self, group_version: str, plural: str, name: str) -> None:
        assert self._session is not None
        async with self._session.delete(f"{self._ns(group_version, plural)}/{name}") as response:
            await response.read()

    # -- the loop --------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[FakeCluster]:
        async with aiohttp.ClientSession() as session:
            self._session = session
            followers = [asyncio.create_task(self._follow(*kind)) for kind in _FOLLOWED.values()]
            task = self._task = asyncio.create_task(self._loop())
            try:
                yield self
            finally:
                for running in (task, *followers):
                    running.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await running
                self._session = None
            if self.errors:
                raise self.errors[0]

    async def _loop(self) -> None:
        while True:
            try:
                await self.step()
            except aiohttp.ClientError as exc:
                self.api_errors.append(exc)  # the emulator may be failing requests on purpose
            except Exception as exc:
                self.errors.append(exc)
                raise
            # Like a controller's work queue: a change is worked on at once, time moves on by ticks.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), self.tick)
            self._changed.clear()

    async def step(self) -> None:
        pods = self._objects["pods"]
        by_release: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
        for pod in pods.values():
            labels = pod["metadata"].get("labels") or {}
            if RELEASE_LABEL in labels and ROLE_LABEL not in labels:
                by_release[labels[RELEASE_LABEL]].append(pod)
        for name, deployment in list(self._objects["deployments"].items()):
            if name in self._settled:
                continue
            release = deployment["spec"]["template"]["metadata"]["labels"][RELEASE_LABEL]
            before = self._changes
            if await self._reconcile_deployment(deployment, by_release[release]) and self._changes == before:
                self._settled.add(name)
        for job in list(self._objects["jobs"].values()):
            await self._reconcile_job(job, pods)

    # -- Deployments and their pods -----------------------------------------------

    def _behaviour(self, template: dict[str, Any]) -> str:
        image = template["spec"]["containers"][0]["image"]
        return self.script.pods.get(image, "ready")

    async def _reconcile_deployment(self, deployment: dict[str, Any], all_pods: list[dict[str, Any]]) -> bool:
        """`all_pods`: the pods of this Deployment's release, migration pods excluded. True when
        nothing is left to do until the Deployment or one of its pods changes."""
        name = deployment["metadata"]["name"]
        generation = deployment["metadata"].get("generation", 1)
        noticed = self._noticed.setdefault((name, generation), time.monotonic())
        if time.monotonic() - noticed < self.script.controller_lag:
            return False  # a lagging controller: the status still describes an older generation
        spec = deployment["spec"]
        template = spec["template"]
        labels = template["metadata"]["labels"]
        revision = labels[REVISION_LABEL]
        replicas = spec.get("replicas", 1)
        mine = [pod for pod in all_pods if pod["metadata"]["labels"].get(OWNER_LABEL, name) == name]
        current = [pod for pod in mine if pod["metadata"]["labels"].get(REVISION_LABEL) == revision]
        older = [pod for pod in mine if pod["metadata"]["labels"].get(REVISION_LABEL) != revision]
        # A paused Deployment starts no pods of a new template and removes none of the old ones.
        paused = bool(spec.get("paused")) and bool(older)
        wrote = False
        for index in range(len(current), 0 if paused else replicas):
            wrote = True
            pod_name = f"{name}-{revision}-{index}"
            self._born[pod_name] = time.monotonic()
            body = {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": pod_name,
                    "namespace": self.namespace,
                    "labels": {**labels, OWNER_LABEL: name},
                },
                "spec": template["spec"],
            }
            await self._post("v1", "pods", body)
        # Scaled down: the newest pods beyond the count go.
        for pod in sorted(current, key=lambda pod: pod["metadata"]["name"])[max(replicas, 0) :]:
            wrote = True
            await self._delete("v1", "pods", pod["metadata"]["name"])
        current = sorted(current, key=lambda pod: pod["metadata"]["name"])[: max(replicas, 0)]
        behaviour = self._behaviour(template)
        for pod in current:
            wrote = await self._kubelet(pod, behaviour) or wrote
        ready_new = sum(1 for pod in current if self._is_ready(pod))
        if ready_new >= replicas and not paused:
            for pod in older:
                wrote = True
                await self._delete("v1", "pods", pod["metadata"]["name"])
            older = []
        ready_old = sum(1 for pod in older if self._is_ready(pod))
        self._ready[name] = ready_new + ready_old
        progressing = {"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated"}
        if ready_new >= replicas:
            progressing["reason"] = "NewReplicaSetAvailable"
        elif behaviour == "deadline" and current:
            progressing = {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}
        if paused:
            progressing = {"type": "Progressing", "status": "Unknown", "reason": "DeploymentPaused"}
        status = {
            "observedGeneration": generation,
            "replicas": len(current) + len(older),
            "updatedReplicas": len(current),
            "readyReplicas": ready_new + ready_old,
            "availableReplicas": ready_new + ready_old,
            "conditions": [
                {"type": "Available", "status": "True" if ready_new + ready_old >= replicas else "False"},
                progressing,
            ],
        }
        if {k: deployment.get("status", {}).get(k) for k in status} != status:
            wrote = True
            await self._patch("apps/v1", "deployments", name, {"status": status}, status=True)
        waiting = behaviour == "crashloop" or (
            behaviour == "ready" and not all(self._is_ready(pod) for pod in current)
        )
        return not wrote and not waiting

    @staticmethod
    def _is_ready(pod: dict[str, Any]) -> bool:
        conditions = (pod.get("status") or {}).get("conditions") or []
        return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)

    async def _kubelet(self, pod: dict[str, Any], behaviour: str) -> bool:
        name = pod["metadata"]["name"]
        age = time.monotonic() - self._born.setdefault(name, time.monotonic())
        old = pod.get("status") or {}
        restarts = 0
        ready = False
        waiting: dict[str, Any] | None = None
        if behaviour == "ready":
            ready = age >= self.script.ready_after
        elif behaviour == "crashloop":
            restarts = int(age / self.script.crash_every)
            waiting = {"reason": "CrashLoopBackOff", "message": "back-off restarting failed container"}
        status = {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "containerStatuses": [
                {
                    "name": pod["spec"]["containers"][0]["name"],
                    "ready": ready,
                    "restartCount": restarts,
                    "state": {"waiting": waiting} if waiting else {"running": {"startedAt": _now()}},
                }
            ],
        }
        if _comparable(old) == _comparable(status):
            return False
        await self._patch("v1", "pods", name, {"status": status}, status=True)
        decisive = (behaviour == "crashloop" and restarts >= self.script.decisive_restarts) or (
            behaviour == "ready" and ready
        )
        if decisive:
            labels = pod["metadata"]["labels"]
            key = f"{labels.get(RELEASE_LABEL, '')}/{labels.get(REVISION_LABEL)}"
            self.decisive_at.setdefault(key, time.monotonic())
        return True

    # -- Jobs ------------------------------------------------------------------

    def _outcome(self, job: dict[str, Any]) -> str:
        name = job["metadata"]["name"]
        role = (job["metadata"].get("labels") or {}).get(ROLE_LABEL, "")
        return self.script.jobs.get(name) or self.script.jobs.get(role) or "succeed"

    async def _reconcile_job(self, job: dict[str, Any], all_pods: dict[str, dict[str, Any]]) -> None:
        name = job["metadata"]["name"]
        status = job.get("status") or {}
        if any(c.get("status") == "True" for c in status.get("conditions") or []):
            return
        pod_name = f"{name}-pod"
        labels = dict(job["spec"]["template"]["metadata"].get("labels") or {})
        if pod_name not in all_pods:
            self.job_runs[name] += 1
            self.job_order.append(name)
            self._born[pod_name] = time.monotonic()
            body = {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": pod_name, "namespace": self.namespace, "labels": labels},
                "spec": job["spec"]["template"]["spec"],
                "status": {"phase": "Pending"},
            }
            await self._post("v1", "pods", body)
            await self._patch("v1", "pods", pod_name, {"status": {"phase": "Running"}}, status=True)
            await self._patch(
                "batch/v1", "jobs", name, {"status": {"active": 1, "startTime": _now()}}, status=True
            )
            return
        if time.monotonic() - self._born.get(pod_name, 0) < self.script.job_seconds:
            return
        outcome = self._outcome(job)
        if outcome == "hang":
            return
        role = labels.get(ROLE_LABEL, "")
        message = self.script.master_message if role == "master" else json.dumps({"phase": role, "ok": True})
        if outcome == "deadline":
            conditions = [
                {"type": "Failed", "status": "True", "reason": "DeadlineExceeded", "message": "too slow"}
            ]
            await self._patch(
                "batch/v1",
                "jobs",
                name,
                {"status": {"active": 0, "failed": 1, "conditions": conditions}},
                status=True,
            )
            return
        code = {"succeed": 0, "fail": 2, "crash": 1}[outcome]
        if outcome == "crash":
            message = ""
        elif outcome == "fail" and role != "master":
            message = json.dumps({"phase": role, "ok": False, "unsafe": ["0042_drop_column"]})
        terminated = {"exitCode": code, "reason": "Completed" if code == 0 else "Error", "message": message}
        pod_status = {
            "phase": "Succeeded" if code == 0 else "Failed",
            "containerStatuses": [
                {"name": "main", "ready": False, "restartCount": 0, "state": {"terminated": terminated}}
            ],
        }
        await self._patch("v1", "pods", pod_name, {"status": pod_status}, status=True)
        if code == 0:
            complete = {"type": "Complete", "status": "True"}
            job_status: dict[str, Any] = {"active": 0, "succeeded": 1, "conditions": [complete]}
        else:
            failed = {
                "type": "Failed",
                "status": "True",
                "reason": "BackoffLimitExceeded",
                "message": f"exit {code}",
            }
            job_status = {"active": 0, "failed": 1, "conditions": [failed]}
        await self._patch("batch/v1", "jobs", name, {"status": job_status}, status=True)
