"""The operator suite's harness: the emulator over HTTP, the real operator in-process, scenario manifests."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import os
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

# The handlers read their timer interval at import: the suite polls fast.
os.environ.setdefault("ROLLGUARD_POLL_SECONDS", "0.5")
os.environ["ROLLGUARD_METRICS_PORT"] = "0"

import aiohttp
import kmock
import yaml

from rollguard_emulator import RollguardEmulator, load_crds

ROOT = Path(__file__).resolve().parents[2]
CRD_DIR = ROOT / "manifests" / "crds"
NAMESPACE = "claims"
# How long the emulator's server gives open streams to end when a test ends.
STREAM_SHUTDOWN_SECONDS = 2.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def release_manifest(
    name: str = "claims-api", image: str = "ghcr.io/rollguard/api:v1", **spec: Any
) -> dict[str, Any]:
    """An ApiRelease with short timeouts, as the scenarios need them."""
    body: dict[str, Any] = {
        "apiVersion": "rollguard.dev/v1alpha1",
        "kind": "ApiRelease",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "replicas": 2,
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [
                        {
                            "name": "api",
                            "image": image,
                            "ports": [{"name": "http", "containerPort": 8000}],
                            "securityContext": {
                                "allowPrivilegeEscalation": False,
                                "capabilities": {"drop": ["ALL"]},
                            },
                        }
                    ],
                },
            },
            "containerName": "api",
            "service": {"name": name, "port": 80},
            "health": {
                "readyTimeoutSeconds": 3,
                "maxRestarts": 2,
                "verify": {"path": "/health/ready", "timeoutSeconds": 2, "retries": 3},
            },
            "migrations": {"activeDeadlineSeconds": 60},
        },
    }
    for key, value in spec.items():
        body["spec"][key] = value
    return body


def loadtest_manifest(
    name: str = "smoke", *, token_secret: str | None = "claims-api-loadtest", **spec: Any
) -> dict[str, Any]:
    """A LoadTest against the release's Service, short enough for the scenarios; `token_secret`
    names the Secret holding the API tokens (None: a run without tokens)."""
    body: dict[str, Any] = {
        "apiVersion": "rollguard.dev/v1alpha1",
        "kind": "LoadTest",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "target": {"service": "claims-api", "port": 80},
            "image": "ghcr.io/rollguard/loadtest:0.1.0",
            "users": 5,
            "runTimeSeconds": 1,
            "thresholds": {"p95Ms": 500, "errorRatePercent": 5},
        },
    }
    if token_secret is not None:
        body["spec"]["tokenSecretRef"] = {"name": token_secret, "key": "tokens"}
    body["spec"].update(spec)
    return body


def with_loadtest(body: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    result = copy.deepcopy(body)
    result["spec"]["loadTest"] = {
        "enabled": True,
        "image": "ghcr.io/rollguard/loadtest:0.1.0",
        "users": 5,
        "runTimeSeconds": 1,
        "thresholds": {"p95Ms": 500, "errorRatePercent": 5},
        **overrides,
    }
    return result


async def wait_for(condition: Callable[[], Any], seconds: float = 20.0, interval: float = 0.05) -> Any:
    """Poll until `condition()` is truthy; fail with the last value seen."""
    deadline = time.monotonic() + seconds
    value = None
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {seconds}s; last value: {value!r}")


class Api:
    """The emulator served over HTTP, with small shortcuts for the scenarios."""

    def __init__(self, emulator: RollguardEmulator, server: kmock.Server) -> None:
        self.emulator = emulator
        self.server = server
        self.url = str(server.url).rstrip("/")

    async def apply(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create the object, or merge its spec into the existing one (as `kubectl apply` would)."""
        group_version = body["apiVersion"]
        plural = {"ApiRelease": "apireleases", "LoadTest": "loadtests", "ConfigMap": "configmaps"}[
            body["kind"]
        ]
        root = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
        path = f"{root}/namespaces/{body['metadata']['namespace']}/{plural}"
        name = body["metadata"]["name"]
        if self.emulator.read(f"{group_version}/{plural}", body["metadata"]["namespace"], name) is None:
            response = await self.server.client.post(path, json=body)
        else:
            response = await self.server.client.patch(
                f"{path}/{name}",
                json={"spec": body["spec"]},
                headers={"Content-Type": "application/merge-patch+json"},
            )
        assert response.status < 300, await response.text()
        return dict(await response.json())

    async def patch(self, path: str, body: Any) -> dict[str, Any]:
        response = await self.server.client.patch(
            path, json=body, headers={"Content-Type": "application/merge-patch+json"}
        )
        assert response.status < 300, await response.text()
        return dict(await response.json())

    def release(self, name: str = "claims-api") -> dict[str, Any]:
        return self.emulator.read("rollguard.dev/v1alpha1/apireleases", NAMESPACE, name) or {}

    def status(self, name: str = "claims-api") -> dict[str, Any]:
        return self.release(name).get("status") or {}

    def phase(self, name: str = "claims-api") -> str | None:
        return self.status(name).get("phase")

    def condition(self, kind: str, name: str = "claims-api") -> dict[str, Any]:
        return next((c for c in self.status(name).get("conditions", []) if c["type"] == kind), {})

    def deployment(self, name: str = "claims-api") -> dict[str, Any] | None:
        return self.emulator.read("apps/v1/deployments", NAMESPACE, name)

    def image(self, name: str = "claims-api") -> str | None:
        deployment = self.deployment(name)
        return deployment["spec"]["template"]["spec"]["containers"][0]["image"] if deployment else None

    def jobs(self) -> list[str]:
        return sorted(job["metadata"]["name"] for job in self.emulator.read_all("batch/v1/jobs", NAMESPACE))

    def events(self, name: str = "claims-api") -> list[tuple[str, str]]:
        return [
            (event.get("type", ""), event.get("reason", ""))
            for event in self.emulator.read_all("v1/events", NAMESPACE)
            if event.get("involvedObject", {}).get("name") == name
        ]


@contextlib.asynccontextmanager
async def serving_emulator() -> AsyncIterator[Api]:
    """The emulator with the CRDs and the release namespace, served over HTTP for one test."""
    emulator = RollguardEmulator()
    emulator.register_crds(load_crds(CRD_DIR))
    emulator.objects["v1/namespaces", None, NAMESPACE] = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": NAMESPACE},
    }
    async with emulator, kmock.Server(emulator) as server:
        try:
            yield Api(emulator, server)
        finally:
            # As an API server that stops: open requests (watches) end now. Without this, the
            # server's exit waits up to aiohttp's 60 s for any stream a test left open.
            runner = server.server.runner
            if runner is not None and runner.server is not None:
                await runner.server.shutdown(STREAM_SHUTDOWN_SECONDS)


def write_kubeconfig(api: Api, path: Path) -> Path:
    """A kubeconfig that points kopf's login at the emulator over plain HTTP."""
    context = {"cluster": "emulator", "user": "tester", "namespace": NAMESPACE}
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "emulator", "cluster": {"server": api.url}}],
        "users": [{"name": "tester", "user": {"token": "not-a-secret"}}],
        "contexts": [{"name": "emulator", "context": context}],
        "current-context": "emulator",
    }
    path.write_text(yaml.safe_dump(kubeconfig))
    return path


class OperatorRunner:
    """The real operator (kopf and the rollguard handlers) in this event loop; stoppable and restartable."""

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None
        self._stop: asyncio.Event | None = None
        self._memo: Any = None
        self.starts = 0

    async def start(self) -> None:
        import kopf

        import rollguard.handlers  # noqa: F401 - registers the handlers

        ready = asyncio.Event()
        self._stop = asyncio.Event()
        self._memo = kopf.Memo()
        self._task = asyncio.create_task(
            kopf.operator(
                standalone=True,
                namespaces=[NAMESPACE],
                ready_flag=ready,
                stop_flag=self._stop,
                memo=self._memo,
            )
        )
        self.starts += 1
        await asyncio.wait_for(ready.wait(), 10)

    async def stop(self) -> None:
        if self._task is not None:
            assert self._stop is not None
            self._stop.set()
            # kopf's graceful exit waits for idle watch streams; a second is enough for the handlers.
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._task, 1.5)
            self._task = None
            # kopf's cleanup may not have run within that time: the informers' watches must close
            # anyway, or they keep the emulator's server (and this loop) busy.
            if (reconciler := self._memo.get("reconciler")) is not None:
                await reconciler.cache.stop()


class OperatorProcess:
    """`python -m rollguard` in a child process, killed with SIGKILL as a node failure would.

    It elects itself leader through the Lease under `identity`, which a restart keeps (as a pod
    keeps its name across container restarts), so a restarted process leads again at once."""

    def __init__(
        self,
        kubeconfig: Path,
        log: Path,
        env: dict[str, str],
        *,
        identity: str = "operator-0",
        args: tuple[str, ...] = (),
        wait_until_leading: bool = True,
    ) -> None:
        self.kubeconfig = kubeconfig
        self.log = log
        self.env = env
        self.identity = identity
        self.args = args
        self.wait_until_leading = wait_until_leading
        self.starts = 0
        self.liveness_port = 0
        self._process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        port = self.liveness_port = free_port()
        env = {**os.environ, **self.env, "KUBECONFIG": str(self.kubeconfig)}
        with self.log.open("ab") as log:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "rollguard",
                "--namespace",
                NAMESPACE,
                "--liveness",
                f"http://127.0.0.1:{port}/healthz",
                "--leader-election-identity",
                self.identity,
                *self.args,
                env=env,
                stdout=log,
                stderr=log,
            )
        self.starts += 1
        async with aiohttp.ClientSession() as session:
            for _ in range(200):
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                        standby = "standby" in await response.text()
                        if response.status == 200 and not (standby and self.wait_until_leading):
                            return
                await asyncio.sleep(0.05)
        raise AssertionError(f"the operator did not come up; see {self.log}")

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    @property
    def returncode(self) -> int | None:
        return self._process.returncode if self._process is not None else None

    async def kill(self) -> None:
        if self._process is not None and self._process.returncode is None:
            self._process.kill()
            await self._process.wait()
        self._process = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid
