"""`rollguard wait apirelease/<name>`: the verdict read from a status, and the command end to end."""

from __future__ import annotations

import asyncio
import os
import sys
import time

import pytest
from operator_harness import NAMESPACE, release_manifest, write_kubeconfig

from rollguard.planner.readiness import readiness
from rollguard.wait import parse_reference


def condition(kind: str, status: str, reason: str, message: str = "", generation: int | None = 2) -> dict:
    found = {"type": kind, "status": status, "reason": reason, "message": message}
    if generation is not None:
        found["observedGeneration"] = generation
    return found


def release(status: dict | None, generation: int = 2) -> dict:
    body: dict = {"metadata": {"name": "claims-api", "generation": generation}}
    if status is not None:
        body["status"] = status
    return body


READY = condition("Ready", "True", "Succeeded", "revision abc (api:v2) is serving")
NOT_STALLED = condition("Stalled", "False", "Progressing")


@pytest.mark.parametrize(
    ("status", "state", "says"),
    [
        (None, "waiting", "observed no generation of 2"),
        ({"observedGeneration": 1, "conditions": [READY]}, "waiting", "generation 1 of 2"),
        (
            {"observedGeneration": 1, "conditions": [condition("Stalled", "True", "RolledBack")]},
            "waiting",
            "generation 1 of 2",
        ),
        (
            {"observedGeneration": 2, "phase": "Verifying", "message": "LoadTest running", "conditions": []},
            "waiting",
            "Verifying: LoadTest running",
        ),
        (
            {"observedGeneration": 2, "conditions": [condition("Ready", "True", "Succeeded", generation=1)]},
            "waiting",
            "Pending",
        ),
        ({"observedGeneration": 2, "conditions": [READY, NOT_STALLED]}, "ready", "Ready: revision abc"),
        (
            {
                "observedGeneration": 2,
                "reason": "ReadyTimeout",
                "conditions": [
                    condition("Ready", "False", "ReadyTimeout"),
                    condition("Stalled", "True", "RolledBack", "rolled back to revision 1a2b"),
                ],
            },
            "stalled",
            "Stalled (RolledBack, ReadyTimeout): rolled back to revision 1a2b",
        ),
        (
            {
                "observedGeneration": 2,
                "reason": "UnsafeMigration",
                "conditions": [condition("Stalled", "True", "Blocked", "lint failed", generation=None)],
            },
            "stalled",
            "Stalled (Blocked, UnsafeMigration): lint failed",
        ),
        (
            {
                "observedGeneration": 2,
                "reason": "InvalidSpec",
                "conditions": [condition("Stalled", "True", "Failed", "containerName 'x' is missing")],
            },
            "stalled",
            "Stalled (Failed, InvalidSpec)",
        ),
    ],
)
def test_the_verdict_counts_only_conditions_of_the_current_generation(status, state, says):
    verdict = readiness(release(status))

    assert verdict.state == state
    assert says in verdict.message
    assert verdict.finished is (state != "waiting")


@pytest.mark.parametrize(
    ("reference", "name"),
    [
        ("apirelease/claims-api", "claims-api"),
        ("ApiRelease/claims-api", "claims-api"),
        ("ar/claims-api", "claims-api"),
        ("apireleases.rollguard.dev/billing-claims-api", "billing-claims-api"),
    ],
)
def test_a_release_reference_names_one_api_release(reference, name):
    assert parse_reference(reference) == name


@pytest.mark.parametrize(
    "reference", ["claims-api", "deployment/claims-api", "apirelease/", "apirelease/a/b", "loadtest/x"]
)
def test_anything_but_an_api_release_is_refused(reference):
    with pytest.raises(ValueError, match="apirelease/<name>"):
        parse_reference(reference)


# -- the command against the emulator ------------------------------------------


async def run_wait(api, tmp_path, *args: str) -> tuple[int, str, float]:
    """`python -m rollguard wait ...` as the chart's hook runs it; exit code, output, seconds taken."""
    env = {**os.environ, "KUBECONFIG": str(write_kubeconfig(api, tmp_path / "wait-kubeconfig"))}
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "rollguard",
        "wait",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, output.decode(), time.monotonic() - started


def wait_requests(api) -> set[tuple[str, str, str]]:
    return {
        (verb, group, resource)
        for (agent, verb, group, resource), _ in api.emulator.audit.items()
        if agent == "rollguard-wait"
    }


@pytest.mark.integration
@pytest.mark.timeout(90)
async def test_wait_exits_0_once_the_release_is_ready_using_only_get_and_watch_on_it(
    api, operator, cluster, script, tmp_path
):
    script.job_seconds = 1.5  # slow migrations, so that the verdict arrives through the watch
    api.emulator.request_log_limit = 100_000  # keep every request, to read the hook's watch parameters
    await api.apply(release_manifest())
    waiting = asyncio.create_task(
        run_wait(api, tmp_path, "apirelease/claims-api", f"--namespace={NAMESPACE}", "--timeout=60")
    )

    code, output, _ = await waiting

    assert code == 0, output
    assert output.strip().splitlines() == [
        f"apirelease/claims-api in {NAMESPACE}: Ready: {api.status()['message']}"
    ]
    assert api.phase() == "Succeeded"
    # What the chart's Role for the hook grants: get and watch on the one ApiRelease, so every
    # watch must name it with a field selector for `resourceNames` to authorize it.
    assert wait_requests(api) <= {
        ("get", "rollguard.dev", "apireleases"),
        ("watch", "rollguard.dev", "apireleases"),
    }
    watches = [
        request
        for request in api.emulator
        if request.action is not None
        and request.action.value == "WATCH"
        and request.headers.get("User-Agent", "").startswith("rollguard-wait/")
    ]
    assert ("watch", "rollguard.dev", "apireleases") in wait_requests(api)
    assert watches
    assert {request.params.get("fieldSelector") for request in watches} == {"metadata.name=claims-api"}


@pytest.mark.integration
@pytest.mark.timeout(90)
async def test_wait_fails_fast_with_the_reason_when_the_release_stalls(
    api, operator, cluster, script, tmp_path
):
    script.jobs["migrate-lint"] = "fail"
    await api.apply(release_manifest())

    code, output, seconds = await run_wait(
        api, tmp_path, "apirelease/claims-api", f"--namespace={NAMESPACE}", "--timeout=60"
    )

    assert code == 1, output
    assert api.phase() == "Blocked"
    assert "Stalled (Blocked, UnsafeMigration): Job claims-api-lint-" in output
    assert len(output.strip().splitlines()) == 1
    assert seconds < 30


@pytest.mark.integration
@pytest.mark.timeout(60)
async def test_wait_gives_up_with_exit_1_after_its_timeout(api, tmp_path):
    await api.apply(release_manifest())  # no operator: nobody ever observes it

    code, output, seconds = await run_wait(
        api, tmp_path, "ar/claims-api", f"--namespace={NAMESPACE}", "--timeout=1.5"
    )

    assert code == 1, output
    assert "not Ready after 1.5s; last seen the operator has observed no generation of 1" in output
    assert 1.5 <= seconds < 20


@pytest.mark.integration
@pytest.mark.timeout(60)
async def test_wait_refuses_a_reference_that_is_not_an_api_release(api, tmp_path):
    code, output, _ = await run_wait(api, tmp_path, "deployment/claims-api", "--timeout=1")

    assert code == 2
    assert "expected apirelease/<name>" in output


@pytest.mark.integration
@pytest.mark.timeout(60)
async def test_wait_without_credentials_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.kube/config either
    env = {key: value for key, value in os.environ.items() if key != "KUBECONFIG"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rollguard", "wait", "apirelease/claims-api", "--timeout=1",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), 60)

    assert process.returncode == 1
    assert output.decode().strip().splitlines() == [
        "apirelease/claims-api: cannot log in: no in-cluster ServiceAccount token and no KUBECONFIG "
        "(or ~/.kube/config)"
    ]
