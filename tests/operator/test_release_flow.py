"""End-to-end releases: the real operator against the emulator, the fake cluster playing the rest."""

from __future__ import annotations

import json

import pytest
from fakecluster import FAILED_SUMMARY
from operator_harness import Api, release_manifest, wait_for, with_loadtest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

V1 = "ghcr.io/rollguard/api:v1"
V2 = "ghcr.io/rollguard/api:v2"


async def first_release(api: Api, **spec) -> dict:
    """Release v1 without a load test and wait until it is the stable revision."""
    await api.apply(release_manifest(image=V1, **spec))
    await wait_for(lambda: api.phase() == "Succeeded")
    return api.status()


async def events_include(api: Api, *reasons: str) -> None:
    await wait_for(lambda: set(reasons) <= {reason for _, reason in api.events()})


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
    assert api.image() == V1
    assert api.deployment()["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    await events_include(api, "Linting", "Expanding", "RollingOut", "Verifying", "Contracting", "Succeeded")


async def test_pods_that_never_become_ready_are_rolled_back_and_contract_never_runs(
    api, operator, cluster, script
):
    stable = await first_release(api)
    script.pods[V2] = "never-ready"

    await api.apply(release_manifest(image=V2))
    await wait_for(lambda: api.phase() == "RolledBack", 30)

    status = api.status()
    rollback = status["rollback"]
    assert rollback["reason"] == "ReadyTimeout"
    assert rollback["toRevision"] == stable["currentRevision"]
    assert rollback["detectionSeconds"] >= 3
    assert rollback["recoverySeconds"] >= 0
    assert rollback["probeAttempts"] >= 1
    assert api.image() == V1
    assert not any(job.startswith(f"claims-api-contract-{status['currentRevision']}") for job in api.jobs())
    assert api.condition("Stalled").items() >= {"status": "True", "reason": "RolledBack"}.items()
    assert api.condition("Ready")["reason"] == "ReadyTimeout"
    assert status["stableRevision"] == stable["currentRevision"]
    assert cluster.stub.requests >= 1
    await events_include(api, "RollingBack", "RolledBack")


async def test_a_crash_loop_is_rolled_back_before_the_ready_timeout(api, operator, cluster, script):
    await first_release(
        api, health={"readyTimeoutSeconds": 30, "maxRestarts": 2, "verify": {"timeoutSeconds": 2}}
    )
    script.pods[V2] = "crashloop"

    await api.apply(
        release_manifest(
            image=V2, health={"readyTimeoutSeconds": 30, "maxRestarts": 2, "verify": {"timeoutSeconds": 2}}
        )
    )
    await wait_for(lambda: api.phase() == "RolledBack", 20)

    rollback = api.status()["rollback"]
    assert rollback["reason"] == "CrashLoop"
    assert rollback["detectionSeconds"] < 30
    assert api.image() == V1


async def test_a_failed_load_test_rolls_the_release_back(api, operator, cluster, script):
    await first_release(api)
    script.master_message = json.dumps(FAILED_SUMMARY)

    await api.apply(with_loadtest(release_manifest(image=V2)))
    await wait_for(lambda: api.phase() == "RolledBack", 20)

    status = api.status()
    assert status["rollback"]["reason"] == "LoadTestFailed"
    assert status["loadTest"]["verdict"] == "failed"
    assert "p95 912 ms > 500 ms" in status["message"]
    assert api.condition("Verified")["status"] == "False"
    assert api.image() == V1
    loadtest = api.emulator.read("rollguard.dev/v1alpha1/loadtests", "claims", status["loadTest"]["name"])
    stalled = next(c for c in loadtest["status"]["conditions"] if c["type"] == "Stalled")
    assert stalled["status"] == "True"  # a failed LoadTest is terminal to kstatus, kubectl wait and Helm


async def test_an_unsafe_migration_blocks_the_release_and_leaves_the_deployment_alone(
    api, operator, cluster, script
):
    stable = await first_release(api)
    before = api.deployment()
    script.jobs["migrate-lint"] = "fail"

    await api.apply(release_manifest(image=V2))
    await wait_for(lambda: api.phase() == "Blocked")

    status = api.status()
    assert status["reason"] == "UnsafeMigration"
    assert status["migrations"]["lint"] == "Failed"
    assert api.deployment()["spec"] == before["spec"]
    assert api.deployment()["metadata"]["generation"] == before["metadata"]["generation"]
    assert f"claims-api-expand-{status['currentRevision']}" not in api.jobs()
    assert api.condition("Stalled").items() >= {"status": "True", "reason": "Blocked"}.items()
    assert status["stableRevision"] == stable["currentRevision"]


async def test_a_failed_expand_job_fails_the_release_before_the_rollout(api, operator, cluster, script):
    await first_release(api)
    before = api.deployment()
    script.jobs["migrate-expand"] = "fail"

    await api.apply(release_manifest(image=V2))
    await wait_for(lambda: api.phase() == "Failed")

    assert api.status()["reason"] == "ExpandFailed"
    assert api.deployment()["spec"] == before["spec"]
    assert api.condition("MigrationsApplied")["status"] == "False"
    assert api.condition("Stalled")["status"] == "True"


async def test_a_failing_first_release_has_nothing_to_roll_back_to_and_fails(api, operator, cluster, script):
    script.pods[V1] = "never-ready"

    await api.apply(release_manifest(image=V1))
    await wait_for(lambda: api.phase() == "Failed", 20)

    status = api.status()
    assert status["reason"] == "ReadyTimeout"
    assert "no stable revision" in status["message"]
    assert api.image() == V1


async def test_manual_contract_waits_for_the_approval_annotation(api, operator, cluster):
    body = release_manifest(migrations={"contractPolicy": "Manual"})
    await api.apply(body)
    await wait_for(lambda: api.status().get("migrations", {}).get("contract") == "AwaitingApproval")
    revision = api.status()["currentRevision"]
    assert api.phase() == "Contracting"
    assert f"claims-api-contract-{revision}" not in api.jobs()

    await api.patch(
        "/apis/rollguard.dev/v1alpha1/namespaces/claims/apireleases/claims-api",
        {"metadata": {"annotations": {"rollguard.dev/approve-contract": revision}}},
    )
    await wait_for(lambda: api.phase() == "Succeeded")

    assert f"claims-api-contract-{revision}" in api.jobs()


async def test_a_new_spec_supersedes_a_release_in_flight(api, operator, cluster, script):
    await first_release(api)
    script.jobs["migrate-lint"] = "hang"
    await api.apply(release_manifest(image=V2))
    await wait_for(lambda: api.phase() == "Linting" and api.status()["currentImage"] == V2)
    superseded = api.status()["currentRevision"]

    script.jobs.clear()
    await api.apply(release_manifest(image="ghcr.io/rollguard/api:v3"))
    await wait_for(lambda: api.phase() == "Succeeded" and api.status()["currentImage"].endswith(":v3"))

    status = api.status()
    assert status["observedGeneration"] == 3
    assert api.image() == "ghcr.io/rollguard/api:v3"
    assert f"claims-api-lint-{superseded}" in api.jobs()
    assert f"claims-api-expand-{superseded}" not in api.jobs()
    await events_include(api, "Superseded")


async def test_a_paused_release_changes_nothing_until_resumed(api, operator, cluster):
    await api.apply(release_manifest(paused=True))
    await wait_for(lambda: api.status().get("observedGeneration") == 1)
    await wait_for(lambda: api.condition("Reconciling").get("reason") == "Paused")
    assert api.jobs() == []
    assert api.deployment() is None

    await api.apply(release_manifest(paused=False))
    await wait_for(lambda: api.phase() == "Succeeded")


async def test_an_invalid_spec_stalls_with_a_message_and_the_operator_carries_on(api, operator, cluster):
    await api.apply(release_manifest(name="broken", containerName="web"))
    await wait_for(lambda: api.phase("broken") == "Failed")

    assert api.status("broken")["reason"] == "InvalidSpec"
    assert "containerName 'web' is not a container" in api.condition("Stalled", "broken")["message"]
    assert api.deployment("broken") is None

    await api.apply(release_manifest())
    await wait_for(lambda: api.phase() == "Succeeded")


async def test_deleting_the_release_garbage_collects_what_it_owns(api, operator, cluster):
    await first_release(api)
    assert api.deployment() is not None

    response = await api.server.client.delete(
        "/apis/rollguard.dev/v1alpha1/namespaces/claims/apireleases/claims-api"
    )
    assert response.status < 300
    await wait_for(lambda: not api.release())

    assert api.deployment() is None
    assert api.jobs() == []


async def test_an_autoscaled_release_keeps_the_size_the_autoscaler_chose(api, operator, cluster):
    await first_release(api, autoscaling=True)
    # What the HorizontalPodAutoscaler does through the scale subresource.
    await api.patch("/apis/apps/v1/namespaces/claims/deployments/claims-api", {"spec": {"replicas": 3}})

    await api.apply(release_manifest(image=V2, autoscaling=True))
    await wait_for(lambda: api.phase() == "Succeeded" and api.status()["currentImage"] == V2)

    assert api.image() == V2
    assert api.deployment()["spec"]["replicas"] == 3
    assert api.deployment()["status"]["availableReplicas"] == 3
