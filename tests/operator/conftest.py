"""Fixtures of the operator suite: the emulator over HTTP, the real operator in-process, a fake cluster."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import kmock
import pytest
import yaml
from fakecluster import FakeCluster, Script, ServiceStub
from operator_harness import CRD_DIR, NAMESPACE, Api, OperatorRunner

from rollguard.emulator import RollguardEmulator, load_crds


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    emulator = RollguardEmulator()
    emulator.register_crds(load_crds(CRD_DIR))
    emulator.objects["v1/namespaces", None, NAMESPACE] = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": NAMESPACE},
    }
    async with emulator, kmock.Server(emulator) as server:
        yield Api(emulator, server)


@pytest.fixture
async def operator(
    api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[OperatorRunner]:
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "emulator", "cluster": {"server": api.url}}],
        "users": [{"name": "tester", "user": {"token": "not-a-secret"}}],
        "contexts": [
            {"name": "emulator", "context": {"cluster": "emulator", "user": "tester", "namespace": NAMESPACE}}
        ],
        "current-context": "emulator",
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(kubeconfig))
    monkeypatch.setenv("KUBECONFIG", str(path))
    runner = OperatorRunner()
    await runner.start()
    try:
        yield runner
    finally:
        await runner.kill()


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
async def cluster(api: Api, script: Script, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeCluster]:
    fake = FakeCluster(api.url, NAMESPACE, script)
    with ServiceStub(fake) as stub:
        monkeypatch.setenv("ROLLGUARD_SERVICE_URL_TEMPLATE", f"http://127.0.0.1:{stub.port}")
        fake.stub = stub  # type: ignore[attr-defined]
        async with fake.running():
            yield fake
