"""The operator survives restarts, API errors and broken watches without repeating a side effect."""

from __future__ import annotations

import asyncio
import time

import pytest
from operator_harness import Api, OperatorProcess, release_manifest, wait_for, with_loadtest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

V1 = "ghcr.io/rollguard/api:v1"
V2 = "ghcr.io/rollguard/api:v2"


async def kill_at_every_phase(
    api: Api, operator: OperatorProcess, final: str, seconds: float = 60
) -> list[str]:
    """Restart the operator each time the release shows a phase it has not shown before."""
    seen: list[str] = []
    deadline = time.monotonic() + seconds
    while (phase := api.phase()) != final:
        assert time.monotonic() < deadline, f"stuck in {phase} after restarts at {seen}"
        if phase and phase not in seen:
            seen.append(phase)
            await operator.kill()
            await operator.start()
        await asyncio.sleep(0.02)
    return seen


def created_once(api: Api) -> bool:
    return all(count == 1 for count in api.emulator.created.values())


async def test_restarts_at_every_phase_boundary_reach_the_same_end_without_repeating_work(
    api, operator_process, cluster
):
    health = {"readyTimeoutSeconds": 20, "verify": {"timeoutSeconds": 2}}
    await api.apply(with_loadtest(release_manifest(health=health)))

    seen = await kill_at_every_phase(api, operator_process, "Succeeded")

    assert {"Linting", "Expanding", "RollingOut", "Verifying", "Contracting"} <= set(seen)
    assert api.condition("Ready")["status"] == "True"
    assert created_once(api), api.emulator.created
    assert set(cluster.job_runs.values()) == {1}, cluster.job_runs
    assert len(cluster.job_runs) == 4


async def test_restarts_during_a_rollback_still_end_rolled_back(api, operator_process, cluster, script):
    await api.apply(release_manifest(image=V1))
    await wait_for(lambda: api.phase() == "Succeeded")
    script.pods[V2] = "never-ready"
    await api.apply(release_manifest(image=V2))

    seen = await kill_at_every_phase(api, operator_process, "RolledBack")

    assert "RollingBack" in seen
    assert api.image() == V1
    assert api.status()["rollback"]["reason"] == "ReadyTimeout"
    assert set(cluster.job_runs.values()) == {1}, cluster.job_runs


async def test_conflicts_and_server_errors_from_the_api_are_retried(api, operator, cluster):
    faults = [
        api.emulator.inject_fault(409, action="UPDATE", plural="apireleases", subresource="status", times=3),
        api.emulator.inject_fault(500, action="CREATE", plural="jobs", times=2),
        api.emulator.inject_fault(503, action="CREATE", plural="deployments", times=1),
    ]

    await api.apply(release_manifest())
    await wait_for(lambda: api.phase() == "Succeeded", 30)

    assert [fault.hits for fault in faults] == [3, 2, 1]
    assert created_once(api)


async def test_a_dropped_watch_is_resumed(api, operator, cluster):
    await api.apply(release_manifest(image=V1))
    await wait_for(lambda: api.phase() == "Succeeded")

    assert api.emulator.drop_watches() > 0
    await api.apply(release_manifest(image=V2))

    await wait_for(lambda: api.phase() == "Succeeded" and api.status()["currentImage"] == V2)
    assert api.image() == V2


async def test_a_watch_resumed_from_an_expired_version_lists_again(api, operator, cluster):
    await api.apply(release_manifest(image=V1))
    await wait_for(lambda: api.phase() == "Succeeded")

    api.emulator.forget_events()
    api.emulator.drop_watches()
    await api.apply(release_manifest(image=V2))

    await wait_for(lambda: api.phase() == "Succeeded" and api.status()["currentImage"] == V2)
