"""`make bench-operator`: rollback reaction time and the operator's memory, against the emulator.

1. Rollback latency: for each of N releases, v1 is released, then v2 crash-loops.
   The clock starts when the fake kubelet has written the pod status that makes
   the health verdict final (restarts > maxRestarts) and stops when the Deployment
   patch restoring v1 lands on the emulator. p50 and p95 over N runs.
2. Memory: the operator's RSS once it serves 200 ApiReleases (each reconciled at least once).

The operator runs as `python -m rollguard` in a child process, over HTTP.
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
from operator_harness import CRD_DIR, NAMESPACE, Api, OperatorProcess, release_manifest, wait_for

from rollguard_emulator import RollguardEmulator, load_crds

RUNS = int(os.environ.get("BENCH_RUNS", "20"))
RELEASES = int(os.environ.get("BENCH_RELEASES", "200"))
V1, V2 = "ghcr.io/rollguard/api:v1", "ghcr.io/rollguard/api:v2"
SPEC = {
    "replicas": 1,
    "migrations": {"enabled": False},
    "health": {"readyTimeoutSeconds": 60, "maxRestarts": 2, "verify": {"timeoutSeconds": 2, "retries": 3}},
}


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


async def watch_restores(url: str, landed: dict[str, float]) -> None:
    """Record when each Deployment is patched back to v1 after having run v2."""
    seen_v2: set[str] = set()
    path = f"{url}/apis/apps/v1/namespaces/{NAMESPACE}/deployments"
    async with aiohttp.ClientSession() as session:
        while True:
            async with session.get(
                path, params={"watch": "true"}, timeout=aiohttp.ClientTimeout(total=None)
            ) as response:
                async for line in response.content:
                    if not line.strip():
                        continue
                    event = json.loads(line)
                    deployment = event["object"]
                    name = deployment["metadata"]["name"]
                    image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
                    if image == V2:
                        seen_v2.add(name)
                    elif image == V1 and name in seen_v2 and name not in landed:
                        landed[name] = time.monotonic()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def rollback_latencies(api: Api, cluster: FakeCluster) -> list[float]:
    landed: dict[str, float] = {}
    watcher = asyncio.create_task(watch_restores(api.url, landed))
    latencies = []
    try:
        for run in range(RUNS):
            name = f"bench-{run}"
            await api.apply(release_manifest(name=name, image=V1, **SPEC))
            await wait_for(lambda name=name: api.phase(name) == "Succeeded", 30)
            await api.apply(release_manifest(name=name, image=V2, **SPEC))
            await wait_for(lambda name=name: api.phase(name) == "RolledBack", 30)
            revision = api.status(name)["currentRevision"]
            await wait_for(lambda name=name: name in landed, 10)
            latencies.append(landed[name] - cluster.decisive_at[f"{name}/{revision}"])
    finally:
        watcher.cancel()
    return latencies


async def memory_with_releases(api: Api, operator: OperatorProcess) -> tuple[float, float, float, int]:
    process = psutil.Process(operator.pid)
    idle = process.memory_info().rss
    started = time.monotonic()
    await asyncio.gather(
        *(api.apply(release_manifest(name=f"fleet-{i}", image=V1, **SPEC)) for i in range(RELEASES))
    )

    def observed() -> bool:
        return all(api.status(f"fleet-{i}").get("observedGeneration") == 1 for i in range(RELEASES))

    # Serving means every release has been reconciled at least once; the timers keep visiting them.
    await wait_for(observed, 300, interval=1.0)
    settle = time.monotonic() - started
    await asyncio.sleep(15)  # more than one timer round over every release
    phases = collections.Counter(api.phase(f"fleet-{i}") for i in range(RELEASES))
    return idle / 2**20, process.memory_info().rss / 2**20, settle, phases["Succeeded"]


async def measure() -> dict[str, float]:
    emulator = RollguardEmulator()
    emulator.register_crds(load_crds(CRD_DIR))
    script = Script(pods={V2: "crashloop"}, ready_after=0.1, crash_every=0.1)
    with tempfile.TemporaryDirectory(prefix="rollguard-bench-") as tmp:
        async with emulator, kmock.Server(emulator) as server:
            api = Api(emulator, server)
            cluster = FakeCluster(api.url, NAMESPACE, script, tick=0.05)
            with ServiceStub(cluster) as stub:
                operator = OperatorProcess(
                    write_kubeconfig(api.url, Path(tmp) / "kubeconfig"),
                    Path(tmp) / "operator.log",
                    {
                        "ROLLGUARD_POLL_SECONDS": "10",
                        "ROLLGUARD_METRICS_PORT": "0",
                        "ROLLGUARD_SERVICE_URL_TEMPLATE": f"http://127.0.0.1:{stub.port}",
                    },
                )
                async with cluster.running():
                    await operator.start()
                    try:
                        latencies = await rollback_latencies(api, cluster)
                        idle_mib, rss_mib, settle, succeeded = await memory_with_releases(api, operator)
                    finally:
                        await operator.kill()
    figures = {
        "rollback_reaction_runs": len(latencies),
        "rollback_reaction_p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
        "rollback_reaction_p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
        "rollback_reaction_max_ms": round(max(latencies) * 1000, 1),
        "rollback_reaction_mean_ms": round(statistics.mean(latencies) * 1000, 1),
        "operator_rss_idle_mib": round(idle_mib, 1),
        "operator_rss_mib_with_releases": round(rss_mib, 1),
        "releases": RELEASES,
        "releases_all_observed_seconds": round(settle, 1),
        "releases_succeeded_20s_later": succeeded,
    }
    return figures


def main() -> None:
    figures = asyncio.run(measure())
    for key, value in figures.items():
        print(f"{key:34} {value}")
    results = Path(os.environ.get("RESULTS", "results"))
    results.mkdir(parents=True, exist_ok=True)
    (results / "bench-operator.json").write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
