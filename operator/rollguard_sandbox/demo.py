"""`make demo`: the whole release pipeline on this machine, from an empty database to rollbacks.

An embedded PostgreSQL, the Kubernetes API emulator, the local runtime that
plays kubelet, controllers and kube-proxy, and the real operator as a
subprocess; then the releases of story.yaml, rendered from the real chart,
while a prober keeps asking the Service for answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import os
import secrets
import shutil
import sys
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import localdb
from rollguard.kube import KubeClient
from rollguard_sandbox import podman, processes, report
from rollguard_sandbox.builds import api_image, prepare_builds
from rollguard_sandbox.chart import apply, render
from rollguard_sandbox.checkout import PACKAGE_DIR, Checkout
from rollguard_sandbox.cluster import running_cluster
from rollguard_sandbox.database import (
    applied_migrations,
    check,
    embedded_postgres,
    migration_reports,
    public_tables,
    seed,
)
from rollguard_sandbox.kubelet import RUN_LABEL, NodeConfig
from rollguard_sandbox.prober import Prober, ProbeTally, exposure, window
from rollguard_sandbox.prometheus import running_prometheus
from rollguard_sandbox.runtime import LocalRuntime
from rollguard_sandbox.story import (
    APIRELEASES,
    ReleaseResult,
    Step,
    StoryRunner,
    expand_values,
    load_builds,
    load_story,
)
from rollguard_sandbox.workloads import HASH_LABEL, owner_of, pod_ready, template_hash

NAMESPACE = "default"
RELEASE = "claims-api"
DATABASE = "claims"
SEEDABLE_PHASES = {"RollingOut", "Verifying", "Contracting", "Succeeded"}
SERVING_PHASES = {"Verifying", "Contracting", "Succeeded"}


@dataclass(frozen=True)
class Options:
    results: Path
    story: Path = PACKAGE_DIR / "story.yaml"
    values: Path = PACKAGE_DIR / "values.yaml"
    load_seconds: int | None = None
    ready_timeout: int | None = None
    backoff: float = 2.0
    release_timeout: float = 300.0
    only: tuple[str, ...] = ()
    overlay: Mapping[str, Any] = field(default_factory=dict)
    # "processes": containers run from folders of this checkout; "containers": podman runs the
    # images `make images` built (`images`: api and loadtest references), on the host network.
    runtime: str = "processes"
    images: Mapping[str, str] = field(default_factory=lambda: dict(podman.DEFAULT_IMAGES))


def deep_merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(dict(base))
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


class Clock:
    """Seconds since the sandbox started, the one time axis of the log, the JSON and the picture."""

    def __init__(self) -> None:
        self.zero = time.monotonic()

    def __call__(self) -> float:
        return time.monotonic() - self.zero


def make_say(clock: Clock) -> Callable[[str], None]:
    def say(message: str) -> None:
        print(f"[{clock():6.1f}s] {message}", flush=True)

    return say


def secret(name: str, data: Mapping[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "stringData": dict(data),
        "type": "Opaque",
    }


@contextlib.asynccontextmanager
async def operator_process(
    checkout: Checkout, kubeconfig: Path, url_map: Path, env: Mapping[str, str], log: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    liveness = f"http://127.0.0.1:{localdb.free_port()}/healthz"
    proc = await processes.start_process(
        [sys.executable, "-m", "rollguard", "run", "--namespace", NAMESPACE, "--liveness", liveness],
        env={
            **env,
            "KUBECONFIG": str(kubeconfig),
            "ROLLGUARD_NAMESPACE": NAMESPACE,
            "ROLLGUARD_SERVICE_URL_MAP": str(url_map),
            "ROLLGUARD_POLL_SECONDS": "1",
            # The Lease holder's name, kept across restarts, so a restarted operator leads at once.
            "POD_NAME": "sandbox-operator",
            "ROLLGUARD_METRICS_PORT": str(localdb.free_port()),
        },
        cwd=checkout.root,
        log_path=log,
    )
    try:
        yield proc
    finally:
        await processes.stop_process(proc, grace=10)


def story_steps(options: Options) -> list[Step]:
    """The story's releases, filtered by `--only`, with the command-line overrides laid over each."""
    steps = load_story(options.story)
    if options.only:
        steps = [step for step in steps if step.name in options.only]
    overlay: dict[str, Any] = dict(options.overlay)
    if options.load_seconds is not None:
        overlay = deep_merge(overlay, {"loadTest": {"runTimeSeconds": options.load_seconds}})
    if options.ready_timeout is not None:
        overlay = deep_merge(overlay, {"health": {"readyTimeoutSeconds": options.ready_timeout}})
    return [replace(step, values=deep_merge(overlay, step.values)) for step in steps]


class Sandbox:
    """One run of the story; every process and server it starts is stopped when `run` returns."""

    def __init__(self, options: Options, say: Callable[[str], None] | None = None) -> None:
        self.options = options
        self.checkout = Checkout.find()
        self.clock = Clock()
        self.say = say or make_say(self.clock)
        # Absolute: PostgreSQL and the containers resolve paths from their own working folders.
        self.results_dir = options.results.resolve()
        self.state = self.results_dir / "run"
        self.env = {
            "PATH": self.checkout.path_env(),
            "PYTHONUNBUFFERED": "1",
            "HOME": os.environ.get("HOME", "/root"),
            "LANG": "C.UTF-8",
        }
        self.database_url = ""
        self.roles = localdb.DatabaseRoles(application_url="", migration_url="")
        self.results: list[ReleaseResult] = []
        self.prober = Prober("", clock=self.clock)
        self._seeding: asyncio.Task[None] | None = None
        # What `$(NAME)` in the story's values stands for (the sandbox's own addresses).
        self.story_vars: dict[str, str] = {}
        self.containers = options.runtime == "containers"
        self.run_id = f"rollguard-sandbox-{secrets.token_hex(4)}"
        self.image_ids: dict[str, str] = {}
        # Named build -> its folder, and the API image reference of each release that runs one.
        self.build_folders: dict[str, Path] = {}
        self.build_images: dict[str, Path] = {}
        if self.containers:
            conf = os.environ.get("CONTAINERS_CONF") or str(self.checkout.containers_conf)
            self.env["CONTAINERS_CONF"] = conf

    async def run(self) -> dict[str, Any]:
        """Play the story; return the summary that is also written to results/summary.json."""
        if missing := self.checkout.missing():
            raise RuntimeError("the sandbox needs " + ", ".join(missing))
        steps = story_steps(self.options)
        if self.containers:
            self.image_ids = await asyncio.to_thread(podman.image_ids, self.options.images, self.env)
        self._clear_results()
        self.state.mkdir(parents=True)
        self._make_builds(steps)
        self.say("starting PostgreSQL, the Kubernetes API emulator, the local runtime and the operator")
        with embedded_postgres() as postgres:
            # The API's two roles: the Jobs migrate as the owner, the pods serve as the application role.
            self.roles = await asyncio.to_thread(localdb.provision_roles, postgres.url(), DATABASE)
            self.database_url = self.roles.application_url
            async with contextlib.AsyncExitStack() as stack:
                story = await self._start(stack)
                for step in steps:
                    result = await self._play(story, step)
                    if not result.ok:
                        self.say(
                            f"stopping: {step.name} ended {result.phase}, the rest of the story builds on it"
                        )
                        break
                await self.prober.stop()
                final = await self._final_state(story.client)
            reports = migration_reports(self.results_dir / "logs", RELEASE)
            applied_by = {label: found["job"] for label, found in reports.items()}
            migrations = await asyncio.to_thread(applied_migrations, self.roles.migration_url, applied_by)
        for result in self.results:
            result.applied_migrations = [
                {"name": label, **found}
                for label, found in reports.items()
                if result.revision and found["job"].endswith(f"-{result.revision}")
            ]
        data = self._report(migrations)
        checks = [found for result in self.results for found in result.checks.values()]
        data["ok"] = data["ok"] and len(self.results) == len(steps)
        data["ok"] = data["ok"] and all(found["exitCode"] == 0 for found in checks)
        data["final"] = final
        report.write_json(self.results_dir / "summary.json", data)
        shutil.rmtree(self.state, ignore_errors=True)
        return data

    def _make_builds(self, steps: list[Step]) -> None:
        """Each named build the releases run, once, and which image reference runs it."""
        if not any(step.build for step in steps):
            return
        if self.containers:
            self.say("named builds need the processes runtime: every release runs the built API image")
            return
        helm = self.checkout.helm()
        assert helm is not None

        def image_of(step: Step) -> str:
            values_files = [self.options.values]
            manifests = render(
                helm,
                self.checkout.chart,
                release=RELEASE,
                namespace=NAMESPACE,
                values_files=values_files,
                values=step.values,
            )
            return api_image(manifests)

        builds = load_builds(self.options.story)
        self.build_folders, self.build_images = prepare_builds(
            steps, builds, self.checkout.service, self.state / "builds", image_of
        )
        for reference, folder in self.build_images.items():
            self.say(f"build {folder.name}: {reference} runs from {folder}")

    def _clear_results(self) -> None:
        """Remove what an earlier run wrote, and nothing else (`--results` may name any folder)."""
        for name in ("run", "logs"):
            shutil.rmtree(self.results_dir / name, ignore_errors=True)
        for name in ("summary.json", "timeline.png", "operator.log", "prometheus.log"):
            (self.results_dir / name).unlink(missing_ok=True)

    async def _start(self, stack: contextlib.AsyncExitStack) -> StoryRunner:
        """The API server, its Secrets, the runtime and the operator, each undone by `stack`."""
        cluster = await stack.enter_async_context(running_cluster(self.checkout.crds, [NAMESPACE]))
        client = KubeClient.for_server(cluster.url, agent="rollguard-sandbox")
        stack.push_async_callback(client.close)
        prometheus = await stack.enter_async_context(
            running_prometheus(self.state / "prometheus", self.results_dir / "prometheus.log", self.env)
        )
        self.story_vars["PROMETHEUS_URL"] = prometheus.url
        if self.containers:
            stack.push_async_callback(
                asyncio.to_thread, podman.remove_labelled, RUN_LABEL, self.run_id, self.env
            )
        config = NodeConfig(
            images=self.checkout.images(
                self.options.images if self.containers else None, builds=self.build_images
            ),
            containers=self.containers,
            run_id=self.run_id,
            image_ids=self.image_ids,
            state_dir=self.state,
            log_dir=self.results_dir / "logs",
            base_env=self.env,
            backoff_base=self.options.backoff,
            backoff_cap=30.0,
            drain_seconds=1.0,
            scrape_targets=prometheus.targets,
        )
        runtime = LocalRuntime(client, config)
        service_url = runtime.proxies.url(NAMESPACE, RELEASE, 80)
        self.prober.base_url = service_url
        url_map = self.state / "service-urls.json"
        url_map.write_text(json.dumps({f"{NAMESPACE}/{RELEASE}": service_url}))
        unreachable = f"postgresql://postgres@127.0.0.1:{localdb.free_port()}/{DATABASE}"
        for body in (
            secret("claims-api-database", {"DATABASE_URL": self.database_url}),
            secret("claims-api-database-owner", {"MIGRATION_DATABASE_URL": self.roles.migration_url}),
            secret("claims-api-database-unreachable", {"DATABASE_URL": unreachable}),
            secret("claims-api-django", {"DJANGO_SECRET_KEY": secrets.token_urlsafe(48)}),
        ):
            await client.create(body)
        await runtime.start()
        stack.push_async_callback(runtime.stop)
        stack.push_async_callback(self.prober.stop)
        kubeconfig = cluster.write_kubeconfig(self.state / "kubeconfig", NAMESPACE)
        log = self.results_dir / "operator.log"
        operator = await stack.enter_async_context(
            operator_process(self.checkout, kubeconfig, url_map, self.env, log)
        )
        self.say(
            f"API server {cluster.url}; Service {RELEASE} at {service_url}; Prometheus {prometheus.url};"
            f" logs in {self.results_dir}"
        )
        helm = self.checkout.helm()
        assert helm is not None
        return StoryRunner(
            client=client,
            helm=helm,
            chart=self.checkout.chart,
            values_file=self.options.values,
            namespace=NAMESPACE,
            release=RELEASE,
            clock=self.clock,
            say=self.say,
            timeout=self.options.release_timeout,
            trouble=lambda: (
                None
                if operator.returncode is None
                else f"the operator exited ({operator.returncode}); see {log}"
            ),
        )

    async def _seed(self, client: KubeClient) -> None:
        self.say("  seeding demo tenants (seed_demo) for the load test and the prober")
        try:
            tokens = await asyncio.to_thread(seed, self.checkout, self.roles, self.env)
        except RuntimeError as error:
            self.say(f"  {error}")
            return
        await apply(client, secret("claims-api-loadtest", {"tokens": ",".join(tokens)}))
        self.prober.token = tokens[0]

    async def _play(self, story: StoryRunner, step: Step) -> ReleaseResult:
        async def on_phase(result: ReleaseResult, phase: str) -> None:
            # The first release's expand migrations make the tables the seed needs; the load
            # test's pod waits (CreateContainerConfigError) until the token Secret exists.
            if phase in SEEDABLE_PHASES and self._seeding is None:
                self._seeding = asyncio.create_task(self._seed(story.client))
            # From here on the new pods are Ready: the Service has something to answer with.
            if phase in SERVING_PHASES and not self.prober.running:
                self.say(
                    "  prober: /health/ready, claims and the payer summary through the Service, every 150 ms"
                )
                self.prober.start()

        result = await story.play(replace(step, values=expand_values(step.values, self.story_vars)), on_phase)
        if self._seeding is not None:
            await self._seeding
        self.results.append(result)
        result.tables = await asyncio.to_thread(public_tables, self.roles.migration_url)
        if result.ok:
            service = self.build_folders.get(step.build, self.checkout.service)
            for command in step.afterwards:
                found = await asyncio.to_thread(check, service, self.roles, self.env, command)
                result.checks[command] = found
                self.say(f"  {command}: exit {found['exitCode']} {json.dumps(found['report'])}")
        during = window(self.prober.samples, result.started, result.ended)
        result.prober = asdict(ProbeTally.of(during))
        if result.phase == "RolledBack":
            result.exposure = exposure(during, result.revision)
        self.say(f"{step.name}: {result.phase} in {result.seconds:g}s (expected {step.expect})")
        return result

    async def _final_state(self, client: KubeClient) -> dict[str, Any]:
        """What serves at the end: the release's stable revision, the Deployment's pods, one request."""
        release = await client.get(*APIRELEASES, NAMESPACE, RELEASE) or {}
        deployment = await client.get("apps/v1", "Deployment", NAMESPACE, RELEASE) or {}
        pods = [
            {
                "name": pod["metadata"]["name"],
                "revision": (pod["metadata"].get("labels") or {}).get(HASH_LABEL, ""),
                "ready": pod_ready(pod),
            }
            for pod in await client.list("v1", "Pod", NAMESPACE)
            if owner_of(pod) == ("Deployment", RELEASE) and not pod["metadata"].get("deletionTimestamp")
        ]
        template = (deployment.get("spec") or {}).get("template") or {}
        sample = await self.prober.once("/health/ready")
        return {
            "phase": (release.get("status") or {}).get("phase"),
            "stableRevision": (release.get("status") or {}).get("stableRevision"),
            "deploymentTemplateHash": template_hash(template) if template else "",
            "pods": pods,
            "readyStatus": sample.status,
        }

    def _report(self, migrations: list[dict[str, Any]]) -> dict[str, Any]:
        data = report.summary(self.results, self.prober.samples, self.clock())
        data["runtime"] = self.options.runtime
        if self.containers:
            data["images"] = {
                reference: {"id": self.image_ids[reference]} for reference in self.options.images.values()
            }
        data["migrations"] = migrations
        report.write_json(self.results_dir / "summary.json", data)
        report.write_timeline(self.results_dir / "timeline.png", self.results, self.prober.samples)
        tally = data["prober"]
        print()
        print(report.table(self.results))
        print(
            f"\nprober: {tally['requests']} requests, {tally['failures']} failed"
            f" ({tally['unexpectedFailures']} outside the broken builds' releases), p95 {tally['p95Ms']} ms"
        )
        print(f"runtime: {data['runtime']}")
        for reference, image in data.get("images", {}).items():
            print(f"  {reference} {image['id'][:12]}")
        print(f"total {data['seconds']}s; summary.json and timeline.png in {self.results_dir}")
        return data
