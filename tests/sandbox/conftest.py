"""Fixtures of the sandbox suite: an emulated API server with the local runtime playing the cluster."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from rollguard.kube import KubeClient
from rollguard_sandbox.checkout import Checkout
from rollguard_sandbox.cluster import Cluster, running_cluster
from rollguard_sandbox.containers import Image, ImageMap
from rollguard_sandbox.kubelet import NodeConfig
from rollguard_sandbox.processes import ProcessRegistry
from rollguard_sandbox.runtime import LocalRuntime

HERE = Path(__file__).parent
REPO = HERE.parent.parent


@dataclass
class Sandbox:
    cluster: Cluster
    client: KubeClient
    runtime: LocalRuntime
    registry: ProcessRegistry


PODSERVER = Image(workdir=HERE, entrypoint=(sys.executable, "podserver.py"))


@pytest.fixture
def images() -> ImageMap:
    """Every image runs `podserver.py`; a test module overrides this fixture to map some to the checkout."""
    return ImageMap(rules=(), default=PODSERVER)


@pytest.fixture
async def sandbox(tmp_path: Path, images: ImageMap) -> AsyncIterator[Sandbox]:
    """The runtime with the `images` fixture's map (podserver.py), fast back-off and a short drain."""
    registry = ProcessRegistry()
    config = NodeConfig(
        images=images,
        state_dir=tmp_path,
        base_env={"PATH": Checkout.find().path_env()},
        backoff_base=0.3,
        backoff_cap=2.0,
        drain_seconds=0.3,
        registry=registry,
    )
    async with running_cluster(REPO / "manifests" / "crds") as cluster:
        client = KubeClient.for_server(cluster.url, agent="rollguard-sandbox")
        runtime = LocalRuntime(client, config, interval=0.1)
        await runtime.start()
        try:
            yield Sandbox(cluster=cluster, client=client, runtime=runtime, registry=registry)
        finally:
            await runtime.stop()
            await client.close()
            registry.kill_all(grace=1.0)
