"""Canary releases end to end: the real operator against the emulator, the fake cluster playing the rest."""

from __future__ import annotations

import asyncio
import json
import os
import sys

import pytest
from fakecluster import FAILED_SUMMARY
from operator_harness import NAMESPACE, Api, release_manifest, wait_for, with_loadtest, write_kubeconfig

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

V1 = "ghcr.io/rollguard/api:v1"
V2 = "ghcr.io/rollguard/api:v2"
STEPS = [
    {"setWeight": 50},
    {"pause": {}},
    {"analysis": {"metrics": [{"name": "canary-load", "provider": {"loadTest": {}}}]}},
    {"setWeight": 100},
]


def canary_release(image: str) -> dict:
    body = with_loadtest(release_manifest(image=image, replicas=4), enabled=False)
    body["spec"]["strategy"] = {"canary": {"steps": STEPS}}
    return body


def replicas(api: Api, name: str) -> int | None:
    deployment = api.deployment(name)
    return deployment["spec"]["replicas"] if deployment else None


async def rollguard(api: Api, tmp_path, *args: str) -> tuple[int, str]:
    """`python -m rollguard ...` as a person runs it, against the emulator."""
    env = {**os.environ, "KUBECONFIG": str(write_kubeconfig(api, tmp_path / "cli-kubeconfig"))}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "rollguard",
        *args,
        "-n",
        NAMESPACE,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    return int(process.returncode or 0), output.decode()


async def stable_v1(api: Api) -> str:
    await api.apply(canary_release(V1))
    await wait_for(lambda: api.phase() == "Succeeded")
    assert api.deployment("claims-api-canary") is None  # a first release has nothing to compare with
    return api.status()["stableRevision"]


async def test_a_canary_waits_for_a_person_then_passes_its_analysis_and_is_promoted(
    api, operator, cluster, tmp_path
):
    stable = await stable_v1(api)

    await api.apply(canary_release(V2))
    await wait_for(lambda: api.status().get("currentStepIndex") == 1 and api.phase() == "Canary")
    revision = api.status()["currentRevision"]
    assert api.status()["canaryWeight"] == 50
    assert (replicas(api, "claims-api-canary"), replicas(api, "claims-api")) == (2, 2)
    assert api.image() == V1  # the stable Deployment's template is untouched while the canary runs
    assert "until promoted" in api.status()["message"]

    code, shown = await rollguard(api, tmp_path, "status", "claims-api")
    assert code == 0, shown
    assert "▶ 1: pause until promoted" in shown
    assert "✔ 0: setWeight 50" in shown

    code, said = await rollguard(api, tmp_path, "promote", "claims-api")
    assert code == 0, said
    assert f"rollguard.dev/promote={revision}:1" in said
    await wait_for(lambda: api.phase() == "Succeeded", 30)

    status = api.status()
    assert status["currentStepIndex"] == len(STEPS)
    assert status["canaryWeight"] == 100
    assert status["stableRevision"] == revision != stable
    (metric,) = status["analysis"]["metrics"]
    assert (metric["name"], metric["phase"]) == ("canary-load", "Successful")
    assert metric["measurements"][0]["phase"] == "Successful"
    test = api.emulator.read(
        "rollguard.dev/v1alpha1/loadtests", "claims", f"claims-api-canary-load-{revision}-s2-0"
    )
    assert test["spec"]["target"]["service"] == "claims-api-canary"
    assert api.image() == V2
    assert (replicas(api, "claims-api-canary"), replicas(api, "claims-api")) == (0, 4)
    assert "rollguard.dev/promote" not in (api.release()["metadata"].get("annotations") or {})
    assert status["migrations"]["contract"] == "Succeeded"
    reasons = {reason for _, reason in api.events()}
    assert {"Canary", "CanaryStep", "AnalysisSuccessful", "CanaryPromoted"} <= reasons


async def test_a_failing_load_test_analysis_aborts_the_canary_and_the_stable_revision_keeps_serving(
    api, operator, cluster, script
):
    stable = await stable_v1(api)
    script.master_message = json.dumps(FAILED_SUMMARY)
    steps = [step for step in STEPS if "pause" not in step]
    body = canary_release(V2)
    body["spec"]["strategy"]["canary"]["steps"] = steps

    await api.apply(body)
    await wait_for(lambda: api.phase() == "RolledBack", 30)

    status = api.status()
    revision = status["currentRevision"]
    assert status["reason"] == "AnalysisFailed"
    assert "analysis canary-load at step 1 failed" in status["message"]
    assert "p95 912 ms > 500 ms" in status["analysis"]["metrics"][0]["measurements"][0]["message"]
    assert status["stableRevision"] == stable
    assert status["rollback"]["toRevision"] == stable
    assert api.image() == V1
    await wait_for(lambda: (replicas(api, "claims-api-canary"), replicas(api, "claims-api")) == (0, 4))
    assert not any(job.startswith(f"claims-api-contract-{revision}") for job in api.jobs())
    # The Events follow the status write that ends the release.
    await wait_for(lambda: {"AnalysisFailed", "RollingBack", "RolledBack"} <= {r for _, r in api.events()}, 5)


async def test_a_web_analysis_that_measures_too_many_errors_aborts_the_canary(api, operator, cluster):
    """The runtime measures through the analysis providers; the planner judges and aborts."""
    import http.server
    import threading

    class Ratio(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"data": {"ratio": 0.5}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Ratio)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        await stable_v1(api)
        body = canary_release(V2)
        url = f"http://127.0.0.1:{server.server_address[1]}/errors?revision={{{{args.canaryRevision}}}}"
        metric = {
            "name": "error-ratio",
            "interval": "1s",
            "successCondition": "result <= 0.05",
            "provider": {"web": {"url": url, "jsonPath": "$.data.ratio", "timeout": "2s"}},
        }
        body["spec"]["strategy"]["canary"]["steps"] = [{"setWeight": 25}, {"analysis": {"metrics": [metric]}}]
        await api.apply(body)
        await wait_for(lambda: api.phase() == "RolledBack", 30)
    finally:
        server.shutdown()
        server.server_close()

    status = api.status()
    assert status["reason"] == "AnalysisFailed"
    assert "analysis error-ratio at step 1 failed" in status["message"]
    assert status["analysis"]["metrics"][0]["measurements"][0]["phase"] == "Failed"
    assert api.image() == V1
