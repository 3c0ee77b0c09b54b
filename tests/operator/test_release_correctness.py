"""Releases that must end right under the API server's real rules and across restarts between writes:
the real operator process against the emulator enforcing the rule in question."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess

import pytest
import yaml
from operator_harness import NAMESPACE, ROOT, Api, release_manifest, wait_for, with_loadtest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

V1 = "ghcr.io/rollguard/api:v1"
V2 = "ghcr.io/rollguard/api:v2"
V3 = "ghcr.io/rollguard/api:v3"
RELEASE = f"/apis/rollguard.dev/v1alpha1/namespaces/{NAMESPACE}/apireleases/claims-api"
DEPLOYMENT = f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/claims-api"
TOKEN = "not-a-secret"  # what write_kubeconfig gives the operator


def mentions(image: str):
    return lambda body: image in json.dumps(body)


async def stable_v1(api: Api, **spec) -> dict:
    await api.apply(release_manifest(image=V1, **spec))
    await wait_for(lambda: api.phase() == "Succeeded")
    return api.status()


async def rolled_back_v2(api: Api, script) -> dict:
    await stable_v1(api)
    script.pods[V2] = "never-ready"
    await api.apply(release_manifest(image=V2))
    await wait_for(lambda: api.phase() == "RolledBack", 30)
    return api.status()


def chart_role_rules() -> list[dict]:
    helm = ROOT / ".tools" / "bin" / "helm"
    binary = str(helm) if helm.exists() else shutil.which("helm")
    assert binary, "helm is installed by `make setup`"
    rendered = subprocess.run(
        [binary, "template", "rollguard", str(ROOT / "charts" / "rollguard"), "--namespace", "rollguard",
         "--set", f"watchNamespaces={{{NAMESPACE}}}"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    roles = [doc for doc in yaml.safe_load_all(rendered) if doc and doc["kind"] == "Role"]
    assert [role["metadata"]["namespace"] for role in roles] == [NAMESPACE]
    return roles[0]["rules"]


@pytest.fixture
def chart_rbac(api: Api) -> None:
    """The operator's identity holds only what the chart's Role grants; the rest is 403."""
    api.emulator.enforce_rbac(TOKEN, chart_role_rules(), namespace=NAMESPACE)


async def test_a_release_with_a_load_test_passes_under_the_chart_rendered_role(
    api, chart_rbac, operator_process, cluster
):
    await api.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "locustfile", "namespace": NAMESPACE},
            "data": {"locustfile.py": "from locust import HttpUser\n"},
        }
    )
    await api.apply(with_loadtest(release_manifest(), workers=1, locustfile={"configMapName": "locustfile"}))

    await wait_for(lambda: api.phase() == "Succeeded", 40)

    assert api.condition("Verified")["status"] == "True"


async def test_a_superseded_contract_makes_its_revision_the_rollback_target(
    api, operator_process, cluster, script
):
    await stable_v1(api)
    script.jobs["migrate-contract"] = "hang"
    await api.apply(release_manifest(image=V2))
    # v2's own contract Job (v1's is there too, from its release).
    await wait_for(
        lambda: (
            api.phase() == "Contracting"
            and f"claims-api-contract-{api.status().get('currentRevision')}" in api.jobs()
        )
    )
    v2 = api.status()["currentRevision"]

    script.pods[V3] = "never-ready"
    await api.apply(release_manifest(image=V3))
    await wait_for(lambda: "waits for Job" in api.status().get("message", ""))
    v3 = api.status()["currentRevision"]
    assert f"claims-api-lint-{v3}" not in api.jobs()  # no two revisions' migrations at once

    script.jobs.clear()
    await wait_for(lambda: api.phase() == "RolledBack", 30)

    assert api.status()["rollback"]["toRevision"] == v2
    assert api.status()["stableRevision"] == v2
    assert api.image() == V2


async def test_a_rolled_back_revision_is_not_rolled_out_again_by_other_spec_changes(
    api, operator_process, cluster, script
):
    failed = await rolled_back_v2(api, script)

    await api.apply(release_manifest(image=V2, replicas=3))
    await api.apply(release_manifest(image=V2, replicas=3, paused=True))
    await api.apply(release_manifest(image=V2, replicas=3, paused=False))
    await wait_for(lambda: api.status().get("observedGeneration") == 5)
    await wait_for(lambda: (api.deployment() or {}).get("spec", {}).get("replicas") == 3)
    await asyncio.sleep(1.5)

    status = api.status()
    assert status["phase"] == "RolledBack"
    assert status["rollback"] == failed["rollback"]
    assert "rollguard.dev/retry=" in status["message"]
    assert api.image() == V1
    assert api.condition("Stalled")["status"] == "True"


async def test_a_retry_reruns_the_revision_without_repeating_migrations_whose_jobs_expired(
    api, operator_process, cluster, script
):
    failed = await rolled_back_v2(api, script)
    revision = failed["currentRevision"]
    for job in api.jobs():  # what ttlSecondsAfterFinished does an hour later
        await api.server.client.delete(f"/apis/batch/v1/namespaces/{NAMESPACE}/jobs/{job}")
    await wait_for(lambda: api.jobs() == [])
    script.pods.clear()

    await api.patch(RELEASE, {"metadata": {"annotations": {"rollguard.dev/retry": revision}}})
    await wait_for(lambda: api.phase() == "Succeeded", 30)

    assert api.image() == V2
    assert api.jobs() == [f"claims-api-contract-{revision}"]
    assert cluster.job_runs[f"claims-api-lint-{revision}"] == 1
    assert cluster.job_runs[f"claims-api-expand-{revision}"] == 1
    await wait_for(lambda: "rollguard.dev/retry" not in (api.release()["metadata"].get("annotations") or {}))


async def test_an_object_the_api_refuses_stalls_the_release_with_the_apis_message(
    api, operator_process, cluster
):
    await stable_v1(api)
    body = release_manifest(image=V2)
    body["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"name": "http", "containerPort": "8000"}]

    await api.apply(body)
    await wait_for(lambda: api.phase() == "Failed", 20)

    stalled = api.condition("Stalled")
    assert stalled["status"] == "True"
    assert api.status()["reason"] == "ApiRejected"
    assert "Deployment claims-api" in stalled["message"]
    assert "containerPort" in stalled["message"]
    assert api.condition("Reconciling")["status"] == "False"
    assert api.image() == V1
    await wait_for(lambda: ("Warning", "Failed") in api.events())


async def test_a_kill_between_the_rollback_patch_and_its_status_never_restores_the_bad_revision(
    api, operator_process, cluster, script
):
    await stable_v1(api)
    script.pods[V2] = "never-ready"
    restore = api.emulator.tap(action="UPDATE", plural="deployments", when=mentions(V1), hold=True)

    await api.apply(release_manifest(image=V2))
    await asyncio.wait_for(restore.reached.wait(), 30)
    await operator_process.kill()
    restore.release()
    reapplied = api.emulator.tap(action="UPDATE", plural="deployments", when=mentions(V2))
    await operator_process.start()
    await wait_for(lambda: api.phase() == "RolledBack", 30)

    assert reapplied.hits == 0
    assert api.image() == V1


async def test_a_kill_as_the_contract_job_is_created_leaves_its_revision_stable(
    api, operator_process, cluster, script
):
    await stable_v1(api)
    contract = api.emulator.tap(
        action="CREATE", plural="jobs", when=lambda body: "-contract-" in body["metadata"]["name"], hold=True
    )

    await api.apply(release_manifest(image=V2))
    await asyncio.wait_for(contract.reached.wait(), 30)
    await operator_process.kill()
    contract.release()

    status = api.status()
    assert status["stableRevision"] == status["currentRevision"]
    assert status["stableTemplate"]["spec"]["containers"][0]["image"] == V2
    await operator_process.start()
    await wait_for(lambda: api.phase() == "Succeeded" and api.status()["currentImage"] == V2)
    assert set(cluster.job_runs.values()) == {1}


async def test_a_progress_deadline_of_an_older_generation_is_not_a_verdict(
    api, operator_process, cluster, script
):
    script.pods[V1] = "deadline"
    await api.apply(release_manifest(image=V1))
    await wait_for(lambda: api.phase() == "Failed", 20)
    assert api.status()["reason"] == "ProgressDeadlineExceeded"

    script.controller_lag = 1.0
    await api.apply(release_manifest(image=V2))
    await wait_for(lambda: api.phase() in ("Succeeded", "Failed") and api.status()["currentImage"] == V2, 30)

    assert api.phase() == "Succeeded", api.status()["message"]


async def test_pausing_holds_the_step_and_resuming_continues_from_it(api, operator_process, cluster, script):
    await stable_v1(api)
    script.jobs["master"] = "hang"
    await api.apply(with_loadtest(release_manifest(image=V2)))
    await wait_for(lambda: api.phase() == "Verifying" and api.status().get("loadTest"))

    await api.apply(with_loadtest(release_manifest(image=V2, paused=True)))
    await wait_for(lambda: (api.deployment() or {}).get("spec", {}).get("paused") is True)
    await wait_for(lambda: api.condition("Reconciling").get("reason") == "Paused")
    assert api.phase() == "Verifying"
    assert api.status()["completedSteps"] == ["lint", "expand", "canary", "rollout"]

    script.jobs.clear()
    await api.apply(with_loadtest(release_manifest(image=V2, paused=False)))
    await wait_for(lambda: api.phase() == "Succeeded", 30)

    assert api.deployment()["spec"].get("paused") is False
    assert set(cluster.job_runs.values()) == {1}, cluster.job_runs


async def test_a_crash_loop_while_paused_is_still_rolled_back(api, operator_process, cluster, script):
    health = {"readyTimeoutSeconds": 30, "maxRestarts": 2, "verify": {"timeoutSeconds": 2}}
    await stable_v1(api, health=health)
    script.pods[V2] = "crashloop"
    await api.apply(release_manifest(image=V2, health=health))
    await wait_for(lambda: api.phase() == "RollingOut" and api.image() == V2)

    await api.apply(release_manifest(image=V2, health=health, paused=True))
    await wait_for(lambda: api.phase() == "RolledBack", 30)

    assert api.status()["rollback"]["reason"] == "CrashLoop"
    assert api.image() == V1


async def test_a_deployment_edited_or_deleted_after_the_release_is_restored(api, operator_process, cluster):
    await stable_v1(api)
    edited = api.deployment()["spec"]["template"]
    edited["spec"]["containers"][0]["image"] = "ghcr.io/rollguard/api:hotfix"

    await api.patch(DEPLOYMENT, {"spec": {"template": edited}})
    await wait_for(lambda: api.image() == V1)
    await api.server.client.delete(DEPLOYMENT)
    await wait_for(lambda: api.image() == V1)

    assert api.phase() == "Succeeded"
    patches = api.emulator.tap(
        action="UPDATE", plural="deployments", when=lambda body: isinstance(body, list)
    )
    await asyncio.sleep(2)
    assert patches.hits == 0  # settled: no patch loop against the controller's own writes


async def test_a_release_named_at_the_limit_gets_children_that_fit(api, operator_process, cluster):
    name = "claims-api-" + "x" * 52  # 63 characters, the most the CRD admits
    body = with_loadtest(release_manifest(name=name), workers=1)

    await api.apply(body)
    await wait_for(lambda: api.phase(name) == "Succeeded", 40)

    names = api.jobs() + [s["metadata"]["name"] for s in api.emulator.read_all("v1/services", NAMESPACE)]
    assert len(names) == 6  # lint, expand, master, worker, contract and the master's Service
    assert all(len(child) <= 63 for child in names)


async def test_a_lint_job_that_crashes_is_a_failure_of_its_own_not_unsafe_sql(
    api, operator_process, cluster, script
):
    script.jobs["migrate-lint"] = "crash"

    await api.apply(release_manifest(image=V1))
    await wait_for(lambda: api.phase() in ("Failed", "Blocked"), 20)

    assert api.status()["reason"] == "LintFailed"
    assert "exit 1" in api.status()["message"]
    assert api.deployment() is None


async def test_a_deployment_with_the_old_selector_moves_to_the_new_one_without_losing_a_pod(
    api, operator_process, cluster
):
    await stable_v1(api)
    # The Deployment as an earlier operator made it: selecting every pod labelled with the release.
    old = api.deployment()
    old["spec"]["selector"] = {"matchLabels": {"rollguard.dev/release": "claims-api"}}
    old["metadata"] = {k: old["metadata"][k] for k in ("name", "namespace", "labels", "ownerReferences")}
    old.pop("status", None)
    deletions = api.emulator.tap(action="DELETE", plural="pods")
    await operator_process.kill()  # the upgrade: the earlier operator is gone, the new one starts
    await api.server.client.delete(DEPLOYMENT, json={"propagationPolicy": "Orphan"})
    response = await api.server.client.post(f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments", json=old)
    assert response.status < 300, await response.text()
    await operator_process.start()

    await wait_for(lambda: "matchExpressions" in (api.deployment() or {}).get("spec", {}).get("selector", {}))
    await wait_for(lambda: (api.deployment() or {}).get("status", {}).get("availableReplicas") == 2)

    assert deletions.hits == 0
    assert api.phase() == "Succeeded"
    assert api.image() == V1
