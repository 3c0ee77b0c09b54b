"""Fixtures of the operator suite: the emulator over HTTP, the real operator, a fake cluster."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fakecluster import FakeCluster, Script, ServiceStub
from operator_harness import (
    NAMESPACE,
    Api,
    OperatorProcess,
    OperatorRunner,
    serving_emulator,
    write_kubeconfig,
)


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    async with serving_emulator() as served:
        yield served


@pytest.fixture
async def operator(
    api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[OperatorRunner]:
    """The operator in this process and event loop."""
    monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(api, tmp_path / "kubeconfig")))
    runner = OperatorRunner()
    await runner.start()
    try:
        yield runner
    finally:
        await runner.stop()


@pytest.fixture
async def operator_process(api: Api, tmp_path: Path, cluster: FakeCluster) -> AsyncIterator[OperatorProcess]:
    """The operator as a child process (`python -m rollguard`), for tests that kill it."""
    process = OperatorProcess(
        write_kubeconfig(api, tmp_path / "kubeconfig"),
        tmp_path / "operator.log",
        {
            "ROLLGUARD_POLL_SECONDS": "0.5",
            "ROLLGUARD_METRICS_PORT": "0",
            "ROLLGUARD_SERVICE_URL_TEMPLATE": f"http://127.0.0.1:{cluster.stub.port}",
        },
    )
    await process.start()
    try:
        yield process
    finally:
        await process.kill()


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
async def cluster(api: Api, script: Script, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeCluster]:
    fake = FakeCluster(api.url, NAMESPACE, script)
    with ServiceStub(fake) as stub:
        monkeypatch.setenv("ROLLGUARD_SERVICE_URL_TEMPLATE", f"http://127.0.0.1:{stub.port}")
        fake.stub = stub
        async with fake.running():
            yield fake
