"""Raw TCP Service ports, and a LoadTest with two workers run for real: operator, master, two workers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path

import pytest
from conftest import PODSERVER, Sandbox

from localdb import free_port
from rollguard_loadtest.gate import WorkerTally
from rollguard_loadtest.summary import workers_reporting
from rollguard_sandbox.checkout import Checkout
from rollguard_sandbox.containers import ImageMap
from rollguard_sandbox.demo import NAMESPACE, operator_process
from rollguard_sandbox.endpoints import PodEndpoints, port_mode
from rollguard_sandbox.locustwiring import wire_locust
from rollguard_sandbox.tcpproxy import TcpPortProxy

LOCUSTFILE = """
from locust import HttpUser, constant, events, task

from rollguard_loadtest import gate

gate.register(events)


class Reader(HttpUser):
    wait_time = constant(0.05)

    @task
    def root(self):
        self.client.get("/")
"""


@pytest.mark.parametrize(
    ("port", "mode"),
    [
        ({"name": "http", "port": 80}, "http"),
        ({"port": 80}, "http"),
        ({"name": "master", "port": 5557}, "http"),
        ({"name": "master", "port": 5557, "appProtocol": "tcp"}, "tcp"),
        ({"name": "tls", "port": 443, "appProtocol": "https"}, "tcp"),
        ({"name": "web", "port": 80, "appProtocol": "HTTP"}, "http"),
        ({"name": "tcp-zmq", "port": 5557}, "tcp"),
        ({"name": "tcp", "port": 5557}, "tcp"),
        ({"name": "tcpish", "port": 5557}, "http"),
    ],
)
def test_port_mode_follows_app_protocol_then_the_port_name(port, mode):
    assert port_mode(port) == mode


HOSTS = {"lt-master:5557": "127.0.0.1:40001", "lt-master": "127.0.0.1:40001"}


def test_a_master_binds_the_local_port_of_its_container_port():
    argv = ["locust", "-f", "x.py", "--headless", "--master", "--expect-workers", "2"]
    wired = wire_locust(argv, {"5557": 41000, "master": 41000}, HOSTS)
    assert wired == [*argv, "--master-bind-host", "127.0.0.1", "--master-bind-port", "41000"]


def test_a_worker_dials_the_master_service_through_its_local_port():
    argv = ["locust", "-f", "x.py", "--worker", "--master-host", "lt-master"]
    assert wire_locust(argv, {"5557": 41002}, HOSTS) == [
        "locust", "-f", "x.py", "--worker", "--master-host", "127.0.0.1", "--master-port", "40001",
    ]  # fmt: skip
    explicit = ["locust", "--worker", "--master-host", "lt-master", "--master-port", "5557"]
    assert wire_locust(explicit, {}, HOSTS)[-4:] == ["--master-host", "127.0.0.1", "--master-port", "40001"]


def test_other_command_lines_stay_as_they_are():
    headless = ["locust", "-f", "x.py", "--headless", "--host", "http://127.0.0.1:9"]
    assert wire_locust(headless, {"5557": 41000}, HOSTS) == headless
    unknown = ["locust", "--worker", "--master-host", "elsewhere"]
    assert wire_locust(unknown, {}, HOSTS) == unknown


def test_the_tally_counts_workers_that_reported_requests():
    tally = WorkerTally()
    tally.record("a", {"stats_total": {"num_requests": 3}})
    tally.record("b", {"stats_total": {"num_requests": 0}})
    tally.record("a", {"stats_total": {"num_requests": 2}})
    tally.record("c", {})
    assert tally.requests == {"a": 5, "b": 0, "c": 0}
    assert workers_reporting(tally.requests) == 1
    tally.record("b", {"stats_total": {"num_requests": 1}})
    assert workers_reporting(tally.requests) == 2


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(1024):
        writer.write(b"echo:" + data)
        await writer.drain()
    writer.close()


@pytest.mark.integration
async def test_tcp_proxy_forwards_bytes_per_connection_to_ready_pods():
    servers = [await asyncio.start_server(_echo, "127.0.0.1", 0) for _ in range(2)]
    local = [server.sockets[0].getsockname()[1] for server in servers]
    pods = [
        PodEndpoints(
            name=f"pod-{i}", labels={"app": "echo"}, ready=True, terminating=False, ports={"5557": port}
        )
        for i, port in enumerate(local)
    ]
    listen = free_port()
    proxy = TcpPortProxy(
        namespace="default", service="echo", port=5557, local_port=listen, selector={"app": "echo"},
        target_port=5557, source=lambda: pods,
    )  # fmt: skip
    await proxy.start()
    try:
        for attempt in range(2):
            reader, writer = await asyncio.open_connection("127.0.0.1", listen)
            writer.write(b"ping %d" % attempt)
            await writer.drain()
            assert await asyncio.wait_for(reader.read(100), 5) == b"echo:ping %d" % attempt
            writer.write_eof()
            assert await asyncio.wait_for(reader.read(100), 5) == b""
            writer.close()
        pods[:] = [PodEndpoints(name="gone", labels={"app": "echo"}, ready=False, terminating=True, ports={})]
        reader, writer = await asyncio.open_connection("127.0.0.1", listen)
        assert await asyncio.wait_for(reader.read(100), 5) == b""  # no endpoint: closed at once
        writer.close()
    finally:
        await proxy.stop()
        for server in servers:
            server.close()


@pytest.fixture
def images() -> ImageMap:
    """The load-test image runs Locust from the checkout; every other image is `podserver.py`."""
    loadtest = Checkout.find().images().resolve("rollguard/loadtest:dev")
    return ImageMap(rules=(("loadtest", loadtest),), default=PODSERVER)


def _target() -> list[dict]:
    labels = {"app": "target"}
    container = {"name": "web", "image": "podserver", "ports": [{"name": "http", "containerPort": 8080}]}
    return [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "target", "namespace": NAMESPACE},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "target", "namespace": NAMESPACE},
            "spec": {"selector": labels, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]},
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "distributed-locustfile", "namespace": NAMESPACE},
            "data": {"locustfile.py": LOCUSTFILE},
        },
        {
            "apiVersion": "rollguard.dev/v1alpha1",
            "kind": "LoadTest",
            "metadata": {"name": "distributed", "namespace": NAMESPACE},
            "spec": {
                "target": {"service": "target", "port": 80},
                "image": "ghcr.io/rollguard/loadtest:dev",
                "locustfile": {"configMapName": "distributed-locustfile"},
                "users": 4,
                "spawnRate": 4,
                "runTimeSeconds": 4,
                "workers": 2,
                "thresholds": {"p95Ms": 2000, "errorRatePercent": 1},
                "activeDeadlineSeconds": 60,
            },
        },
    ]


@pytest.mark.integration
async def test_a_loadtest_with_two_workers_passes_and_both_workers_report(sandbox: Sandbox, tmp_path: Path):
    url_map = tmp_path / "service-urls.json"
    url_map.write_text(json.dumps({}))
    kubeconfig = sandbox.cluster.write_kubeconfig(tmp_path / "kubeconfig", NAMESPACE)
    env = {"PATH": Checkout.find().path_env(), "PYTHONUNBUFFERED": "1"}
    began = time.monotonic()
    async with operator_process(Checkout.find(), kubeconfig, url_map, env, tmp_path / "operator.log"):
        for body in _target():
            await sandbox.client.create(body)
        status: dict = {}
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(30):
                while status.get("phase") not in {"Passed", "Failed", "Error"}:
                    await asyncio.sleep(0.3)
                    test = await sandbox.client.get(
                        "rollguard.dev/v1alpha1", "LoadTest", NAMESPACE, "distributed"
                    )
                    status = (test or {}).get("status") or {}
        jobs = {job["metadata"]["name"] for job in await sandbox.client.list("batch/v1", "Job", NAMESPACE)}
        services = await sandbox.client.list("v1", "Service", NAMESPACE)
    assert status.get("phase") == "Passed", (status, (tmp_path / "operator.log").read_text()[-3000:])
    assert {"distributed-master", "distributed-worker"} <= jobs
    master = next(svc for svc in services if svc["metadata"]["name"] == "distributed-master")
    assert port_mode(master["spec"]["ports"][0]) == "tcp"
    # The master counted the requests each worker reported: both took part.
    assert status["stats"]["workers"] == 2
    assert status["stats"]["requests"] > 0
    print(f"distributed LoadTest passed in {time.monotonic() - began:.1f}s: {status['stats']}")
