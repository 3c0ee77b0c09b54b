"""End-to-end releases: the real operator against the emulator, the fake cluster playing the rest."""

from __future__ import annotations

import pytest
from operator_harness import Api, release_manifest, wait_for, with_loadtest

pytestmark = pytest.mark.integration


async def release_succeeded(api: Api, body: dict) -> None:
    await api.apply(body)
    await wait_for(lambda: api.phase() == "Succeeded")


async def test_a_healthy_release_runs_every_step_in_order_and_ends_ready(api, operator, cluster):
    await api.apply(with_loadtest(release_manifest()))

    await wait_for(lambda: api.phase() == "Succeeded")

    status = api.status()
    revision = status["currentRevision"]
    assert cluster.job_order == [
        f"claims-api-lint-{revision}",
        f"claims-api-expand-{revision}",
        f"claims-api-verify-{revision}-master",
        f"claims-api-contract-{revision}",
    ]
    assert api.condition("Ready")["status"] == "True"
    assert api.condition("Reconciling")["status"] == "False"
    assert api.condition("Stalled")["status"] == "False"
    assert api.condition("MigrationsApplied")["status"] == "True"
    assert api.condition("Verified")["status"] == "True"
    assert status["stableRevision"] == revision
    assert status["observedGeneration"] == 1
    assert status["loadTest"]["verdict"] == "passed"
    assert status["migrations"] == {"lint": "Succeeded", "expand": "Succeeded", "contract": "Succeeded"}
    assert api.image() == "ghcr.io/rollguard/api:v1"
    reasons = [reason for _, reason in api.events()]
    for phase in ("Linting", "Expanding", "RollingOut", "Verifying", "Contracting", "Succeeded"):
        assert phase in reasons
