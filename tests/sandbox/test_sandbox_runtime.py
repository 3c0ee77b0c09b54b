"""The local runtime with real processes against the emulator: pods, probes, Services, crash loops, Jobs."""

from __future__ import annotations

import asyncio
import collections
import time

import aiohttp
import pytest

from rollguard_sandbox.processes import live_descendants

pytestmark = pytest.mark.integration

NS = "default"


def template(app: str, *, env=None, readiness=True) -> dict:
    container = {
        "name": "web",
        "image": f"{app}:1",
        "ports": [{"name": "http", "containerPort": 8000}],
        "env": [
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            *(env or []),
        ],
    }
    if readiness:
        container["readinessProbe"] = {
            "httpGet": {"path": "/ready", "port": "http"},
            "periodSeconds": 0.2,
            "failureThreshold": 1,
        }
    return {"metadata": {"labels": {"app": "web", "variant": app}}, "spec": {"containers": [container]}}


DEPLOYMENTS = ("apps/v1", "Deployment")
JOBS = ("batch/v1", "Job")
PODS = ("v1", "Pod")


def deployment(name: str, tmpl: dict, *, replicas=2, deadline=600) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "replicas": replicas,
            "progressDeadlineSeconds": deadline,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            # What stays the same across templates: the API server refuses a selector the template misses.
            "selector": {"matchLabels": {"app": tmpl["metadata"]["labels"]["app"]}},
            "template": tmpl,
        },
    }


SERVICE = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "web", "namespace": NS},
    "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]},
}


async def wait_for(predicate, within=20.0, interval=0.1):
    deadline = time.monotonic() + within
    while True:
        value = await predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s: {predicate.__name__}")
        await asyncio.sleep(interval)


def pods_of(pods, prefix):
    return [pod for pod in pods if pod["metadata"]["name"].startswith(prefix + "-")]


async def deployment_status(sandbox, name):
    deploy = await sandbox.client.get(*DEPLOYMENTS, NS, name)
    return (deploy or {}).get("status") or {}


async def test_service_routes_only_to_ready_pods(sandbox):
    await sandbox.client.create(deployment("good", template("good")))
    await sandbox.client.create(
        deployment("bad", template("bad", env=[{"name": "READY", "value": "never"}]), replicas=1),
    )
    await sandbox.client.create(SERVICE)

    async def good_ready():
        return (await deployment_status(sandbox, "good")).get("readyReplicas") == 2

    await wait_for(good_ready)
    pods = await sandbox.client.list(*PODS, NS)
    bad = pods_of(pods, "bad")
    assert len(bad) == 1
    assert bad[0]["status"]["containerStatuses"][0]["state"].get("running")
    assert bad[0]["status"]["containerStatuses"][0]["ready"] is False

    url = sandbox.runtime.proxies.url(NS, "web", 80)
    answered = collections.Counter()
    async with aiohttp.ClientSession() as session:
        for _ in range(20):
            async with session.get(url + "/") as resp:
                assert resp.status == 200
                answered[await resp.text()] += 1
    assert set(answered) == {pod["metadata"]["name"] for pod in pods_of(pods, "good")}
    assert (await deployment_status(sandbox, "bad")).get("readyReplicas") == 0


async def test_rolling_update_keeps_serving_and_replaces_every_pod(sandbox):
    await sandbox.client.create(deployment("web", template("v1")))
    await sandbox.client.create(SERVICE)

    async def complete():
        status = await deployment_status(sandbox, "web")
        progressing = {c["type"]: c for c in status.get("conditions", [])}.get("Progressing", {})
        return progressing.get("reason") == "NewReplicaSetAvailable" and status.get("updatedReplicas") == 2

    await wait_for(complete)
    first = {pod["metadata"]["name"] for pod in await sandbox.client.list(*PODS, NS)}
    url = sandbox.runtime.proxies.url(NS, "web", 80)
    await sandbox.client.patch(*DEPLOYMENTS, NS, "web", {"spec": {"template": template("v2")}})

    failures, answers = 0, 0
    async with aiohttp.ClientSession() as session:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            async with session.get(url + "/") as resp:
                answers += 1
                failures += resp.status != 200
            names = {pod["metadata"]["name"] for pod in await sandbox.client.list(*PODS, NS)}
            if not names & first and await complete():
                break
            await asyncio.sleep(0.05)
    assert not names & first, "old pods must be gone after the rollout"
    assert len(names) == 2
    assert answers > 10
    assert failures == 0


async def test_crash_loop_grows_restart_count_and_exceeds_the_progress_deadline(sandbox):
    crash = template("crash", env=[{"name": "CRASH", "value": "1"}])
    await sandbox.client.create(deployment("crash", crash, replicas=1, deadline=2))

    async def restarted_twice():
        pods = pods_of(await sandbox.client.list(*PODS, NS), "crash")
        statuses = pods[0].get("status", {}).get("containerStatuses") if pods else None
        return statuses and statuses[0]["restartCount"] >= 2 and statuses[0]

    status = await wait_for(restarted_twice)
    assert status["lastState"]["terminated"]["exitCode"] == 3

    async def waiting_in_back_off():
        pods = pods_of(await sandbox.client.list(*PODS, NS), "crash")
        return pods[0]["status"]["containerStatuses"][0]["state"].get("waiting", {}).get("reason")

    assert await wait_for(waiting_in_back_off) == "CrashLoopBackOff"

    async def deadline_exceeded():
        conditions = (await deployment_status(sandbox, "crash")).get("conditions", [])
        return any(c["reason"] == "ProgressDeadlineExceeded" and c["status"] == "False" for c in conditions)

    await wait_for(deadline_exceeded, within=10)


def job(name: str, env: list, **spec) -> dict:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "backoffLimit": 0,
            **spec,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "main", "image": "job:1", "env": env}],
                }
            },
        },
    }


async def job_condition(sandbox, name):
    conditions = ((await sandbox.client.get(*JOBS, NS, name)) or {}).get("status", {}).get("conditions", [])
    return next((c for c in conditions if c["status"] == "True"), None)


async def test_job_completes_with_its_termination_message(sandbox):
    summary = '{"verdict": "passed", "p95Ms": 12}'
    await sandbox.client.create(job("verify", [{"name": "MESSAGE", "value": summary}]))
    condition = await wait_for(lambda: job_condition(sandbox, "verify"))
    assert condition["type"] == "Complete"
    (pod,) = pods_of(await sandbox.client.list(*PODS, NS), "verify")
    assert pod["metadata"]["labels"]["job-name"] == "verify"
    assert pod["status"]["phase"] == "Succeeded"
    assert pod["status"]["containerStatuses"][0]["state"]["terminated"]["message"] == summary
    assert (await sandbox.client.get(*JOBS, NS, "verify"))["status"]["succeeded"] == 1


async def test_failing_job_with_backoff_limit_zero_fails_after_one_pod(sandbox):
    env = [{"name": "MESSAGE", "value": "unsafe SQL"}, {"name": "EXIT_CODE", "value": "2"}]
    await sandbox.client.create(job("lint", env))
    condition = await wait_for(lambda: job_condition(sandbox, "lint"))
    assert (condition["type"], condition["reason"]) == ("Failed", "BackoffLimitExceeded")
    (pod,) = pods_of(await sandbox.client.list(*PODS, NS), "lint")
    assert pod["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 2


async def test_job_past_its_active_deadline_fails_and_its_pod_is_stopped(sandbox):
    env = [{"name": "MESSAGE", "value": "slow"}, {"name": "SLEEP", "value": "60"}]
    await sandbox.client.create(job("slow", env, activeDeadlineSeconds=1))
    condition = await wait_for(lambda: job_condition(sandbox, "slow"))
    assert condition["reason"] == "DeadlineExceeded"

    async def pod_gone():
        return not pods_of(await sandbox.client.list(*PODS, NS), "slow")

    await wait_for(pod_gone)
    assert not sandbox.registry.groups


async def test_deleting_a_deployment_stops_its_processes(sandbox):
    await sandbox.client.create(deployment("web", template("v1"), replicas=2))

    async def two_ready():
        return (await deployment_status(sandbox, "web")).get("readyReplicas") == 2

    await wait_for(two_ready)
    assert len(sandbox.registry.groups) == 2
    await sandbox.client.delete(*DEPLOYMENTS, NS, "web")

    async def all_stopped():
        return not await sandbox.client.list(*PODS, NS) and not sandbox.registry.groups

    await wait_for(all_stopped)
    assert not [proc for proc in live_descendants() if "podserver.py" in " ".join(proc.cmdline())]


async def test_failing_liveness_restarts_the_container(sandbox):
    tmpl = template("wedged", env=[{"name": "READY", "value": "never"}], readiness=False)
    tmpl["spec"]["containers"][0]["livenessProbe"] = {
        "httpGet": {"path": "/ready", "port": "http"},
        "periodSeconds": 0.2,
        "failureThreshold": 2,
    }
    await sandbox.client.create(deployment("wedged", tmpl, replicas=1))

    async def restarted():
        pods = pods_of(await sandbox.client.list(*PODS, NS), "wedged")
        statuses = pods[0].get("status", {}).get("containerStatuses") if pods else None
        return statuses and statuses[0]["restartCount"] >= 1 and statuses[0]

    status = await wait_for(restarted)
    assert status["lastState"]["terminated"]["exitCode"] in {137, 143}


async def test_a_missing_secret_holds_the_container_until_it_exists(sandbox):
    env = [
        {"name": "MESSAGE", "valueFrom": {"secretKeyRef": {"name": "tokens", "key": "message"}}},
    ]
    await sandbox.client.create(job("needs-secret", env))

    async def waiting_reason():
        pods = pods_of(await sandbox.client.list(*PODS, NS), "needs-secret")
        statuses = pods[0].get("status", {}).get("containerStatuses") if pods else None
        return statuses and statuses[0]["state"].get("waiting", {}).get("reason")

    assert await wait_for(waiting_reason) == "CreateContainerConfigError"
    await sandbox.client.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "tokens", "namespace": NS},
            "stringData": {"message": "t1,t2"},
        }
    )
    condition = await wait_for(lambda: job_condition(sandbox, "needs-secret"))
    assert condition["type"] == "Complete"
    (pod,) = pods_of(await sandbox.client.list(*PODS, NS), "needs-secret")
    assert pod["status"]["containerStatuses"][0]["state"]["terminated"]["message"] == "t1,t2"
