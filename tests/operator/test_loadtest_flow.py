"""LoadTests against the emulator: Jobs, verdicts from the master's termination message, errors."""

from __future__ import annotations

import json

import pytest
from fakecluster import FAILED_SUMMARY
from operator_harness import NAMESPACE, Api, loadtest_manifest, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


def run_status(api: Api, name: str = "smoke") -> dict:
    return (api.emulator.read("rollguard.dev/v1alpha1/loadtests", NAMESPACE, name) or {}).get("status") or {}


def record_phases(api: Api) -> list[str]:
    """Every phase the operator writes into a LoadTest's status, in order, as the emulator receives
    the writes (polling the status could miss a phase left within milliseconds)."""
    seen: list[str] = []

    def record(body: object) -> bool:
        phase = ((body or {}).get("status") or {}).get("phase") if isinstance(body, dict) else None
        if phase and (not seen or seen[-1] != phase):
            seen.append(phase)
        return True

    api.emulator.tap(action="UPDATE", plural="loadtests", subresource="status", when=record)
    return seen


async def test_a_passing_run_goes_pending_running_passed_with_stats(api, operator, cluster, script):
    script.job_seconds = 1.0
    seen = record_phases(api)
    await api.apply(loadtest_manifest())

    await wait_for(lambda: run_status(api).get("phase") in {"Passed", "Failed", "Error"}, 20)

    assert seen == ["Pending", "Running", "Passed"]
    status = run_status(api)
    assert status["stats"]["p95Ms"] == 88
    assert status["stats"]["requests"] == 1520
    assert status["worst"][0]["name"] == "GET /api/v1/claims/"
    assert status["verdict"] == "passed"
    conditions = {c["type"]: c["status"] for c in status["conditions"]}
    assert conditions == {"Complete": "True", "Ready": "True", "Stalled": "False"}
    master = api.emulator.read("batch/v1/jobs", NAMESPACE, "smoke-master")
    env = {e["name"]: e for e in master["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["ROLLGUARD_API_TOKENS"]["valueFrom"]["secretKeyRef"] == {
        "name": "claims-api-loadtest",
        "key": "tokens",
    }
    assert "--headless" in master["spec"]["template"]["spec"]["containers"][0]["command"]


async def test_a_run_that_misses_thresholds_fails_with_its_reasons(api, operator, cluster, script):
    script.master_message = json.dumps(FAILED_SUMMARY)
    await api.apply(loadtest_manifest())

    await wait_for(lambda: run_status(api).get("phase") == "Failed")

    status = run_status(api)
    assert status["reasons"] == ["p95 912 ms > 500 ms"]
    assert status["stats"]["p95Ms"] == 912


@pytest.mark.parametrize(
    ("outcome", "message", "expected"),
    [
        ("crash", "", "exited with code 1"),
        ("succeed", "Traceback (most recent call last): boom", "unparseable"),
        ("deadline", "", "DeadlineExceeded"),
    ],
)
async def test_a_master_without_a_usable_summary_is_an_error(
    api, operator, cluster, script, outcome, message, expected
):
    script.jobs["master"] = outcome
    script.master_message = message
    await api.apply(loadtest_manifest())

    await wait_for(lambda: run_status(api).get("phase") == "Error")

    assert expected in run_status(api)["message"]


async def test_a_missing_locustfile_configmap_is_an_error(api, operator, cluster):
    await api.apply(loadtest_manifest(locustfile={"configMapName": "absent", "key": "locustfile.py"}))

    await wait_for(lambda: run_status(api).get("phase") == "Error")

    assert "absent" in run_status(api)["message"]
    assert api.jobs() == []


async def test_workers_get_a_job_and_the_master_a_service(api, operator, cluster):
    await api.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "locustfile", "namespace": NAMESPACE},
            "data": {"locustfile.py": "from locust import HttpUser"},
        }
    )
    locustfile = {"configMapName": "locustfile", "key": "locustfile.py"}
    await api.apply(loadtest_manifest(workers=2, locustfile=locustfile))

    await wait_for(lambda: run_status(api).get("phase") == "Passed")

    assert api.emulator.read("v1/services", NAMESPACE, "smoke-master") is not None
    worker = api.emulator.read("batch/v1/jobs", NAMESPACE, "smoke-worker")
    assert worker["spec"]["parallelism"] == 2
    volumes = worker["spec"]["template"]["spec"]["volumes"]
    assert {"name": "locustfile", "configMap": {"name": "locustfile"}} in volumes
