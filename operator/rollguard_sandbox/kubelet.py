"""The kubelet of the sandbox: runs each pod's containers as local processes and reports pod status.

One `PodWorker` per pod, one `ContainerRunner` per container. Containers
restart with the crash-loop back-off, probes decide readiness and liveness,
and a deleted pod is taken out of the endpoints before it gets SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rollguard.kube import KubeClient
from rollguard_sandbox import processes
from rollguard_sandbox.backoff import crash_backoff, should_reset
from rollguard_sandbox.checks import run_check
from rollguard_sandbox.containers import (
    ContainerConfigError,
    ImageMap,
    LaunchSpec,
    Mount,
    build_container_run,
    build_launch,
    container_ports,
    secret_text,
)
from rollguard_sandbox.endpoints import PodEndpoints
from rollguard_sandbox.probes import ProbeKind, ProbeTracker, parse_probe
from rollguard_sandbox.workloads import now_stamp, pod_status, terminated_state

RUN_LABEL = "dev.rollguard.sandbox.run"
MESSAGE_LIMIT = 4096


@dataclass(frozen=True)
class NodeConfig:
    """How this node maps pods onto the machine."""

    images: ImageMap
    state_dir: Path
    base_env: Mapping[str, str]
    # Container logs outlive their pods here (state_dir/logs when unset).
    log_dir: Path | None = None
    hosts: Callable[[], Mapping[str, str]] = dict
    backoff_base: float = 10.0
    backoff_cap: float = 300.0
    # Seconds between leaving the endpoints and SIGTERM, so in-flight requests finish.
    drain_seconds: float = 1.0
    config_retry_seconds: float = 1.0
    registry: processes.ProcessRegistry = processes.REGISTRY
    # Pods run as podman containers of the built images (Image.reference), not as processes.
    containers: bool = False
    # Every container of this node carries the label RUN_LABEL=run_id (the cleanup's filter).
    run_id: str = "sandbox"
    # Built image reference -> its image id, as containerStatuses report it.
    image_ids: Mapping[str, str] = field(default_factory=dict)
    # The file_sd file of the sandbox's Prometheus: the node writes its pods' metrics ports there.
    scrape_targets: Path | None = None

    @property
    def logs(self) -> Path:
        return self.log_dir or self.state_dir / "logs"


async def remove_container(name: str, env: Mapping[str, str]) -> None:
    """`podman rm --force`: a container whose `podman run` was killed may outlive it."""
    proc = await asyncio.create_subprocess_exec(
        "podman", "rm", "--force", "--ignore", "--time", "2", name,
        env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    await proc.wait()


class Snapshot:
    """Secrets and ConfigMaps of one namespace, read once per container start."""

    def __init__(self, secrets: list[dict[str, Any]], configmaps: list[dict[str, Any]]) -> None:
        self._data: dict[tuple[str, str], dict[str, str]] = {}
        for obj in secrets:
            text = secret_text(obj.get("data"), obj.get("stringData"))
            self._data["Secret", obj["metadata"]["name"]] = text
        for obj in configmaps:
            self._data["ConfigMap", obj["metadata"]["name"]] = dict(obj.get("data") or {})

    def __call__(self, kind: str, name: str) -> Mapping[str, str] | None:
        return self._data.get((kind, name))

    @classmethod
    async def read(cls, client: KubeClient, namespace: str) -> Snapshot:
        return cls(
            await client.list("v1", "Secret", namespace), await client.list("v1", "ConfigMap", namespace)
        )


@dataclass
class ContainerRunner:
    """One container of a pod: its process, restarts, probes and status entry."""

    spec: Mapping[str, Any]
    pod: PodWorker
    ports: dict[str, int]
    restart_count: int = 0
    crashes: int = 0  # restarts since the back-off last started over
    state: dict[str, Any] = field(default_factory=lambda: {"waiting": {"reason": "ContainerCreating"}})
    last_state: dict[str, Any] = field(default_factory=dict)
    started: bool = False
    ready: bool = False
    finished: bool = False
    exit_code: int | None = None
    proc: asyncio.subprocess.Process | None = None
    launch: LaunchSpec | None = None

    @property
    def name(self) -> str:
        return str(self.spec["name"])

    @property
    def container_name(self) -> str:
        """The podman container of this start (pods run as containers)."""
        return f"{self.pod.config.run_id}-{self.pod.name}-{self.name}-{self.restart_count}"

    def status(self) -> dict[str, Any]:
        config = self.pod.config
        if config.containers:
            reference = config.images.resolve(str(self.spec.get("image", ""))).reference
            image_id = config.image_ids.get(reference, "")
            container_id = f"podman://{self.container_name}" if self.proc else ""
        else:
            image_id, container_id = "", f"sandbox://{self.proc.pid}" if self.proc else ""
        return {
            "name": self.name,
            "image": self.spec.get("image", ""),
            "imageID": image_id,
            "containerID": container_id,
            "ready": self.ready,
            "started": self.started,
            "restartCount": self.restart_count,
            "state": self.state,
            "lastState": self.last_state,
        }

    def _set(self, **changes: Any) -> None:
        for key, value in changes.items():
            setattr(self, key, value)
        self.pod.changed()

    async def run(self) -> None:
        config = self.pod.config
        while not self.pod.stopping:
            try:
                self.launch = await self.pod.build_launch(self)
            except ContainerConfigError as error:
                self._set(state={"waiting": {"reason": "CreateContainerConfigError", "message": str(error)}})
                await self.pod.sleep(config.config_retry_seconds)
                continue
            self.launch.termination_log.write_text("")
            log_path = config.logs / self.pod.name / f"{self.name}.{self.restart_count}.log"
            try:
                self.proc = await processes.start_process(
                    self.launch.argv,
                    env=self.launch.env,
                    cwd=self.launch.cwd,
                    log_path=log_path,
                    registry=config.registry,
                )
            except OSError as error:
                stamp = now_stamp()
                failed = {"exitCode": 128, "reason": "StartError", "message": str(error)}
                self._set(state={"terminated": {**failed, "startedAt": stamp, "finishedAt": stamp}})
                exit_code, ran_for = 128, 0.0
            else:
                if self.pod.stopping:  # terminated while the process was being started
                    await processes.stop_process(self.proc, grace=self.pod.grace, registry=config.registry)
                started_at = now_stamp()
                loop = asyncio.get_running_loop()
                began = loop.time()
                self._set(state={"running": {"startedAt": started_at}}, ready=False)
                probing = asyncio.create_task(self._probe(self.proc, self.launch))
                exit_code = await self.proc.wait()
                probing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await probing
                await processes.reap_group(self.proc.pid, registry=config.registry)
                if config.containers:
                    await remove_container(self.container_name, config.base_env)
                ran_for = loop.time() - began
                self.pod.event(f"Container {self.name} exited with code {exit_code} after {ran_for:.1f}s")
                self._set(
                    state={"terminated": self._terminated(exit_code, started_at)},
                    ready=False,
                    started=False,
                    exit_code=exit_code,
                )
            if self.pod.stopping or not self.pod.restarts(exit_code):
                self._set(finished=True)
                return
            # The back-off starts over after a long run; restartCount itself only ever grows.
            self.crashes = 0 if should_reset(ran_for) else self.crashes
            delay = crash_backoff(self.crashes, base=config.backoff_base, cap=config.backoff_cap)
            self.crashes += 1
            self._set(
                last_state=self.state,
                state={
                    "waiting": {
                        "reason": "CrashLoopBackOff",
                        "message": f"back-off {delay:g}s restarting failed container={self.name}",
                    }
                },
            )
            await self.pod.sleep(delay)
            self._set(restart_count=self.restart_count + 1)

    def _terminated(self, exit_code: int, started_at: str) -> dict[str, Any]:
        assert self.launch is not None
        message = ""
        with contextlib.suppress(OSError, UnicodeDecodeError):
            message = self.launch.termination_log.read_text()[-MESSAGE_LIMIT:]
        return terminated_state(exit_code, message, started_at)

    async def _probe(self, proc: asyncio.subprocess.Process, launch: LaunchSpec) -> None:
        """Probe until the container exits: startup first, then readiness and liveness."""
        loop = asyncio.get_running_loop()
        trackers: dict[ProbeKind, ProbeTracker] = {}
        for kind in ("startup", "readiness", "liveness"):
            probe = parse_probe(self.spec.get(f"{kind}Probe"))
            if probe is not None:
                trackers[kind] = ProbeTracker(probe, kind, started_at=loop.time())
        if "startup" not in trackers:
            self._set(started=True)
        if "readiness" not in trackers:
            self._set(ready=self.started)
        while proc.returncode is None and not self.pod.terminating:
            now = loop.time()
            startup = trackers.get("startup")
            if startup is not None and not startup.completed:
                active = [startup]
            else:
                active = [tracker for kind, tracker in trackers.items() if kind != "startup"]
            for tracker in active:
                if not tracker.due(now):
                    continue
                check = await run_check(
                    tracker.probe,
                    ports=self.ports,
                    env=launch.env,
                    cwd=launch.cwd,
                    exec_prefix=launch.exec_prefix,
                )
                tracker.record(check.ok, loop.time())
                if not check.ok:
                    self.pod.event(f"{tracker.kind.capitalize()} probe of {self.name} failed: {check.detail}")
                if tracker.kind == "startup" and tracker.completed:
                    self._set(started=True, ready="readiness" not in trackers)
                elif tracker.kind == "readiness" and tracker.passed != self.ready:
                    self._set(ready=tracker.passed)
                if tracker.failed_for_good:
                    self.pod.event(
                        f"Container {self.name} failed its {tracker.kind} probe, will be restarted"
                    )
                    await processes.stop_process(
                        proc, grace=self.pod.grace, registry=self.pod.config.registry
                    )
                    return
            await asyncio.sleep(0.05)


class PodWorker:
    """One pod on this node, from container creation to the removal of its finalizer."""

    def __init__(
        self, pod: Mapping[str, Any], client: KubeClient, config: NodeConfig, local_ports: list[int]
    ) -> None:
        self.obj = dict(pod)
        self.client = client
        self.config = config
        meta = pod["metadata"]
        self.name: str = meta["name"]
        self.namespace: str = meta.get("namespace", "default")
        self.labels: dict[str, str] = dict(meta.get("labels") or {})
        spec = pod.get("spec") or {}
        self.restart_policy: str = spec.get("restartPolicy", "Always")
        self.grace: float = float(spec.get("terminationGracePeriodSeconds", 30))
        self.dir = config.state_dir / "pods" / f"{self.namespace}_{self.name}"
        self.stopping = False
        self.terminating = False
        self.started_at = now_stamp()
        self._stop = asyncio.Event()
        self._dirty = asyncio.Event()
        self._ports = iter(local_ports)
        self.containers = [
            ContainerRunner(spec=container, pod=self, ports=self._take_ports(container))
            for container in spec.get("containers") or []
        ]
        self.task: asyncio.Task[None] | None = None

    def _take_ports(self, container: Mapping[str, Any]) -> dict[str, int]:
        count = len(container.get("ports") or ())
        return container_ports(container, [next(self._ports) for _ in range(count)])

    def changed(self) -> None:
        self._dirty.set()

    def event(self, message: str) -> None:
        """Append to the pod's events file, next to its container logs (what `kubectl describe` shows)."""
        folder = self.config.logs / self.name
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / "events.log").open("a") as events:
            events.write(f"{now_stamp()} {message}\n")

    def restarts(self, exit_code: int) -> bool:
        return self.restart_policy == "Always" or (self.restart_policy == "OnFailure" and exit_code != 0)

    async def sleep(self, seconds: float) -> None:
        """Sleep, but wake at once when the pod is being stopped."""
        # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a cancellation.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stop.wait()

    @property
    def ready(self) -> bool:
        return (
            bool(self.containers) and all(runner.ready for runner in self.containers) and not self.terminating
        )

    def endpoints(self) -> PodEndpoints:
        ports: dict[str, int] = {}
        for runner in self.containers:
            ports.update(runner.ports)
        return PodEndpoints(
            name=self.name, labels=self.labels, ready=self.ready, terminating=self.terminating, ports=ports
        )

    def phase(self) -> str:
        if self.containers and all(runner.finished for runner in self.containers):
            return "Succeeded" if all(runner.exit_code == 0 for runner in self.containers) else "Failed"
        if any("running" in runner.state or runner.last_state for runner in self.containers):
            return "Running"
        return "Pending"

    def status(self) -> dict[str, Any]:
        return pod_status(
            phase=self.phase(),
            ready=self.ready,
            started_at=self.started_at,
            containers=[runner.status() for runner in self.containers],
        )

    async def build_launch(self, runner: ContainerRunner) -> LaunchSpec:
        lookup = await Snapshot.read(self.client, self.namespace)
        image = self.config.images.resolve(str(runner.spec.get("image", "")))
        mounts = self._materialise_volumes(runner.spec, lookup)
        termination_log = self.dir / f"{runner.name}.termination-log"
        if self.config.containers:
            # The container's own user writes its termination message and its emptyDirs.
            termination_log.write_text("")
            termination_log.chmod(0o666)
            specs = runner.spec.get("volumeMounts") or []
            read_only = {mount["mountPath"]: bool(mount.get("readOnly")) for mount in specs}
            for path, folder in mounts.items():
                if folder.is_dir() and not read_only[path]:
                    folder.chmod(0o777)  # an emptyDir: the container's user writes it
            return build_container_run(
                runner.spec,
                pod=self.obj,
                image=image,
                name=runner.container_name,
                lookup=lookup,
                ports=runner.ports,
                mounts=[Mount(folder, path, read_only[path]) for path, folder in mounts.items()],
                hosts=self.config.hosts(),
                termination_log=termination_log,
                base_env=self.config.base_env,
                labels={RUN_LABEL: self.config.run_id},
            )
        return build_launch(
            runner.spec,
            pod=self.obj,
            image=image,
            lookup=lookup,
            ports=runner.ports,
            mounts=mounts,
            hosts=self.config.hosts(),
            termination_log=termination_log,
            base_env=self.config.base_env,
        )

    def _materialise_volumes(self, container: Mapping[str, Any], lookup: Snapshot) -> dict[str, Path]:
        """Write the ConfigMap and Secret volumes a container mounts; return mount path -> folder."""
        volumes = {volume["name"]: volume for volume in (self.obj.get("spec") or {}).get("volumes") or []}
        mounts: dict[str, Path] = {}
        for mount in container.get("volumeMounts") or []:
            volume = volumes.get(mount["name"], {})
            folder = self.dir / "volumes" / mount["name"]
            folder.mkdir(parents=True, exist_ok=True)
            source: Mapping[str, Any] | None = None
            if "configMap" in volume:
                source, kind, ref = volume["configMap"], "ConfigMap", volume["configMap"].get("name", "")
            elif "secret" in volume:
                source, kind, ref = volume["secret"], "Secret", volume["secret"].get("secretName", "")
            if source is not None:
                data = lookup(kind, ref)
                if data is None:
                    raise ContainerConfigError(f'{kind.lower()} "{ref}" not found (volume {mount["name"]})')
                items = source.get("items") or [{"key": key, "path": key} for key in data]
                for item in items:
                    target = folder / item["path"]
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(data.get(item["key"], ""))
            local = folder / mount["subPath"] if mount.get("subPath") else folder
            mounts[mount["mountPath"]] = local
        return mounts

    async def run(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        publisher = asyncio.create_task(self._publish())
        runners = [asyncio.create_task(runner.run()) for runner in self.containers]
        try:
            await asyncio.gather(*runners)
        finally:
            self.changed()
            await asyncio.sleep(0)
            publisher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await publisher
            await self._write_status()

    async def _publish(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            await self._write_status()
            await asyncio.sleep(0.05)

    async def _write_status(self) -> None:
        with contextlib.suppress(Exception):
            await self.client.patch(
                "v1", "Pod", self.namespace, self.name, {"status": self.status()}, subresource="status"
            )

    async def terminate(self) -> None:
        """Leave the endpoints, wait for the drain, SIGTERM the containers, then release the pod."""
        if self.terminating:
            return
        self.terminating = True
        self.changed()
        if any(runner.proc and runner.proc.returncode is None for runner in self.containers):
            await asyncio.sleep(self.config.drain_seconds)
        self.stopping = True
        self._stop.set()
        await asyncio.gather(
            *(
                processes.stop_process(runner.proc, grace=self.grace, registry=self.config.registry)
                for runner in self.containers
                if runner.proc is not None
            )
        )
        if self.task is not None:
            await self.task

    def cleanup_files(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
