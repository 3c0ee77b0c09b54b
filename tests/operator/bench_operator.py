"""`make bench-operator`: the operator at fleet scale, against the emulator over HTTP.

1. 500 ApiReleases applied at once; the time until all are `Succeeded`.
2. API calls counted by the emulator (every request of the operator: its client and kopf's),
   per release (or LoadTest) per minute, over a window each:
   - idle: every release `Succeeded`, nothing drifting;
   - finished LoadTests: 50 standalone LoadTests `Passed`, beside the idle fleet;
   - in flight: 50 releases rolling out a revision whose pods never become Ready.
3. Rollback reaction with the fleet present: for N releases, v2 crash-loops; the clock starts
   when the fake kubelet writes the pod status that makes the health verdict final
   (restarts > maxRestarts) and stops when the Deployment patch restoring v1 lands.
4. The operator's RSS serving all of it.

The operator runs as `python -m rollguard` (leader election on, default rate limits).
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import kmock
import psutil

sys.path.insert(0, str(Path(__file__).parent))

from fakecluster import FakeCluster, Script, ServiceStub
from operator_harness import (
    CRD_DIR,
    NAMESPACE,
    Api,
    OperatorProcess,
    loadtest_manifest,
    release_manifest,
    wait_for,
)

from rollguard_emulator import RollguardEmulator, load_crds

RELEASES = int(os.environ.get("BENCH_RELEASES", "500"))
RUNS = int(os.environ.get("BENCH_RUNS", "20"))
SAMPLE = int(os.environ.get("BENCH_SAMPLE", "50"))
WINDOW = float(os.environ.get("BENCH_WINDOW", "30"))
POLL = os.environ.get("BENCH_POLL_SECONDS", "5")
V1, V2, V3 = "ghcr.io/rollguard/api:v1", "ghcr.io/rollguard/api:v2", "ghcr.io/rollguard/api:v3"
SPEC = {
    "replicas": 1,
    "migrations": {"enabled": False},
    "health": {"readyTimeoutSeconds": 600, "maxRestarts": 2, "verify": {"timeoutSeconds": 2, "retries": 3}},
}
OPERATOR_AGENTS = ("rollguard", "kopf")


def write_kubeconfig(url: str, path: Path) -> Path:
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "e", "cluster": {"server": url}}],
                "users": [{"name": "u", "user": {"token": "bench"}}],
                "contexts": [{"name": "e", "context": {"cluster": "e", "user": "u", "namespace": NAMESPACE}}],
                "current-context": "e",
            }
        )
    )
    return path


def operator_calls(emulator: RollguardEmulator) -> int:
    return sum(count for (agent, *_), count in emulator.audit.items() if agent in OPERATOR_AGENTS)


async def calls_per_minute(emulator: RollguardEmulator) -> float:
    """The operator's requests a minute, counted over one window."""
    before = operator_calls(emulator)
    await asyncio.sleep(WINDOW)
    return (operator_calls(emulator) - before) * 60.0 / WINDOW


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def watch_restores(url: str, landed: dict[str, float]) -> None:
    """Record when each Deployment is patched back to v1 after having run v2."""
    seen_v2: set[str] = set()
    path = f"{url}/apis/apps/v1/namespaces/{NAMESPACE}/deployments"
    async with aiohttp.ClientSession() as session:
        while True:
            params = {"watch": "true", "timeoutSeconds": "3600"}
            async with session.get(
                path, params=params, timeout=aiohttp.ClientTimeout(total=None)
            ) as response:
                async for line in response.content:
                    if not line.strip():
                        continue
                    deployment = json.loads(line)["object"]
                    name = deployment["metadata"]["name"]
                    image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
                    if image == V2:
                        seen_v2.add(name)
                    elif image == V1 and name in seen_v2 and name not in landed:
                        landed[name] = time.monotonic()


async def rollback_latencies(api: Api, cluster: FakeCluster) -> list[float]:
    landed: dict[str, float] = {}
    watcher = asyncio.create_task(watch_restores(api.url, landed))
    await asyncio.sleep(0.5)
    latencies = []
    try:
        for run in range(RUNS):
            name = f"fleet-{run}"
            await api.apply(release_manifest(name=name, image=V2, **SPEC))
            await wait_for(lambda name=name: api.phase(name) == "RolledBack", 60)
            revision = api.status(name)["currentRevision"]
            await wait_for(lambda name=name: name in landed, 10)
            latencies.append(landed[name] - cluster.decisive_at[f"{name}/{revision}"])
    finally:
        watcher.cancel()
    return latencies


async def measure() -> dict[str, float]:
    emulator = RollguardEmulator()
    emulator.register_crds(load_crds(CRD_DIR))
    script = Script(pods={V2: "crashloop", V3: "never-ready"}, ready_after=0.1, crash_every=0.1)
    names = [f"fleet-{i}" for i in range(RELEASES)]
    figures: dict[str, float] = {"releases": RELEASES}
    with tempfile.TemporaryDirectory(prefix="rollguard-bench-") as tmp:
        async with emulator, kmock.Server(emulator) as server:
            api = Api(emulator, server)
            cluster = FakeCluster(api.url, NAMESPACE, script, tick=0.05)
            with ServiceStub(cluster) as stub:
                operator = OperatorProcess(
                    write_kubeconfig(api.url, Path(tmp) / "kubeconfig"),
                    Path(tmp) / "operator.log",
                    {
                        "ROLLGUARD_POLL_SECONDS": POLL,
                        "ROLLGUARD_METRICS_PORT": "0",
                        "ROLLGUARD_SERVICE_URL_TEMPLATE": f"http://127.0.0.1:{stub.port}",
                    },
                )
                async with cluster.running():
                    await operator.start()
                    process = psutil.Process(operator.pid)
                    try:
                        figures["operator_rss_idle_mib"] = round(process.memory_info().rss / 2**20, 1)
                        started = time.monotonic()
                        await asyncio.gather(
                            *(api.apply(release_manifest(name=name, image=V1, **SPEC)) for name in names)
                        )
                        figures["seconds_to_apply"] = round(time.monotonic() - started, 1)

                        def succeeded() -> int:
                            return sum(api.phase(name) == "Succeeded" for name in names)

                        await wait_for(lambda: succeeded() == RELEASES, 600, interval=0.5)
                        figures["seconds_to_all_succeeded"] = round(time.monotonic() - started, 1)
                        figures["releases_succeeded"] = succeeded()
                        await asyncio.sleep(5)  # the last status writes and events of the rollout

                        idle = await calls_per_minute(emulator)
                        figures["api_calls_per_min_idle_fleet"] = round(idle, 1)
                        figures["api_calls_per_min_idle_release"] = round(idle / RELEASES, 3)

                        tests = [f"smoke-{i}" for i in range(SAMPLE)]
                        manifests = [loadtest_manifest(name, token_secret=None) for name in tests]
                        await asyncio.gather(*(api.apply(manifest) for manifest in manifests))

                        def passed() -> bool:
                            return all(
                                (emulator.read("rollguard.dev/v1alpha1/loadtests", NAMESPACE, name) or {})
                                .get("status", {})
                                .get("phase")
                                == "Passed"
                                for name in tests
                            )

                        await wait_for(passed, 120, interval=0.5)
                        await asyncio.sleep(3)
                        with_tests = await calls_per_minute(emulator)
                        figures["api_calls_per_min_finished_loadtest"] = round(
                            max(0.0, with_tests - idle) / SAMPLE, 3
                        )

                        rolling = names[-SAMPLE:]
                        await asyncio.gather(
                            *(api.apply(release_manifest(name=name, image=V3, **SPEC)) for name in rolling)
                        )
                        await wait_for(
                            lambda: all(
                                api.phase(name) == "RollingOut" and api.image(name) == V3 for name in rolling
                            ),
                            120,
                            interval=0.5,
                        )
                        await asyncio.sleep(2)
                        inflight = await calls_per_minute(emulator)
                        others = idle * (RELEASES - SAMPLE) / RELEASES
                        figures["api_calls_per_min_inflight_release"] = round(
                            max(0.0, inflight - others) / SAMPLE, 2
                        )

                        latencies = await rollback_latencies(api, cluster)
                        figures["rollback_reaction_runs"] = len(latencies)
                        figures["rollback_reaction_p50_ms"] = round(percentile(latencies, 0.5) * 1000, 1)
                        figures["rollback_reaction_p95_ms"] = round(percentile(latencies, 0.95) * 1000, 1)
                        figures["rollback_reaction_max_ms"] = round(max(latencies) * 1000, 1)
                        figures["rollback_reaction_mean_ms"] = round(statistics.mean(latencies) * 1000, 1)
                        figures["operator_rss_mib_with_releases"] = round(
                            process.memory_info().rss / 2**20, 1
                        )
                        phases = collections.Counter(api.phase(name) for name in names)
                        figures["phases_at_the_end"] = dict(phases)  # type: ignore[assignment]
                        figures["client_retries_logged"] = (
                            (Path(tmp) / "operator.log").read_text().count("HTTP 429")
                        )
                    finally:
                        await operator.kill()
    figures["poll_seconds"] = float(POLL)
    figures["window_seconds"] = WINDOW
    return figures


def main() -> None:
    figures = asyncio.run(measure())
    for key, value in figures.items():
        print(f"{key:40} {value}")
    results = Path(os.environ.get("RESULTS", "results"))
    results.mkdir(parents=True, exist_ok=True)
    (results / "bench-operator.json").write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
