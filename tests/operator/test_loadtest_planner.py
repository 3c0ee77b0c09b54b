"""The LoadTest planner and the summary it reads, pure."""

from __future__ import annotations

import datetime
import json

import pytest

from rollguard.planner import LoadTestSnapshot, plan_loadtest
from rollguard.planner.objects import job_state
from rollguard.planner.summary import parse_summary

T0 = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.UTC)
SUMMARY = {
    "verdict": "passed",
    "reasons": [],
    "requests": 10,
    "failures": 0,
    "errorRatePercent": 0.0,
    "p50Ms": 40,
    "p95Ms": 80,
    "p99Ms": 95,
    "rps": 2.5,
    "worst": [],
    "thresholds": {"p95Ms": 500, "errorRatePercent": 5},
}


def loadtest(phase: str | None = None, **spec) -> dict:
    return {
        "apiVersion": "rollguard.dev/v1alpha1",
        "kind": "LoadTest",
        "metadata": {
            "name": "lt",
            "namespace": "ns",
            "uid": "u",
            "generation": 1,
            "creationTimestamp": "2026-01-01T12:00:00Z",
        },
        "spec": {
            "target": {"url": "http://api:80"},
            "image": "lt:1",
            "thresholds": {"p95Ms": 500, "errorRatePercent": 5},
            **spec,
        },
        "status": {"observedGeneration": 1, "phase": phase} if phase else {},
    }


def master_pod(message: str | None = None, code: int = 0, phase: str = "Running") -> dict:
    state = {"running": {}} if message is None else {"terminated": {"exitCode": code, "message": message}}
    return {
        "metadata": {"name": "lt-master-x"},
        "status": {"phase": phase, "containerStatuses": [{"state": state}]},
    }


def snap(
    lt: dict, jobs: list[dict] = (), pods: list[dict] = (), present: bool = True, seconds: float = 1
) -> LoadTestSnapshot:
    return LoadTestSnapshot(
        loadtest=lt,
        jobs={j["metadata"]["name"]: j for j in jobs},
        services={},
        master_pods=list(pods),
        locustfile_present=present,
        now=T0 + datetime.timedelta(seconds=seconds),
    )


def master_job(**status) -> dict:
    return {"metadata": {"name": "lt-master"}, "spec": {"backoffLimit": 0}, "status": status}


def test_a_new_run_creates_its_master_and_is_pending():
    plan = plan_loadtest(snap(loadtest()))

    assert [a.name for a in plan.actions] == ["lt-master"]
    assert plan.status["phase"] == "Pending"


def test_workers_come_with_a_service_and_a_worker_job():
    plan = plan_loadtest(snap(loadtest(workers=2)))

    assert sorted(f"{a.kind}/{a.name}" for a in plan.actions) == [
        "Job/lt-master",
        "Job/lt-worker",
        "Service/lt-master",
    ]


@pytest.mark.parametrize(
    ("pods", "job", "phase", "text"),
    [
        ([master_pod()], master_job(active=1), "Running", "users"),
        ([master_pod(json.dumps(SUMMARY))], master_job(), "Passed", "p95 80"),
        (
            [master_pod(json.dumps({**SUMMARY, "verdict": "failed", "reasons": ["p95"]}), 1)],
            master_job(),
            "Failed",
            "p95",
        ),
        ([master_pod("", 137)], master_job(), "Error", "code 137"),
        ([master_pod("not json")], master_job(), "Error", "unparseable"),
        (
            [],
            master_job(conditions=[{"type": "Failed", "status": "True", "reason": "DeadlineExceeded"}]),
            "Error",
            "DeadlineExceeded",
        ),
        ([], master_job(succeeded=1), "Error", "without a summary"),
    ],
)
def test_the_verdict_comes_from_the_master_termination_message(pods, job, phase, text):
    plan = plan_loadtest(snap(loadtest("Running"), jobs=[job], pods=pods))

    assert plan.status.get("phase", "Running") == phase
    assert text in plan.status["message"]


def test_a_master_that_never_finishes_is_an_error_after_its_deadline():
    plan = plan_loadtest(
        snap(
            loadtest("Running", activeDeadlineSeconds=60),
            jobs=[master_job(active=1)],
            pods=[master_pod()],
            seconds=120,
        )
    )

    assert plan.status["phase"] == "Error"


def test_a_missing_locustfile_is_an_error_before_any_job():
    plan = plan_loadtest(snap(loadtest(locustfile={"configMapName": "gone"}), present=False))

    assert plan.actions == []
    assert plan.status["phase"] == "Error"
    assert "gone" in plan.status["message"]


def test_a_finished_run_is_left_alone():
    plan = plan_loadtest(snap(loadtest("Passed")))

    assert plan.actions == []


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "not JSON"),
        ("[1]", "not a JSON object"),
        ("{", "not JSON"),
        (json.dumps({**SUMMARY, "verdict": "maybe"}), r"\$\.verdict: 'maybe' is not one of"),
        (json.dumps({k: v for k, v in SUMMARY.items() if k != "p95Ms"}), "'p95Ms' is required"),
        (json.dumps({**SUMMARY, "p95Ms": "fast"}), r"\$\.p95Ms: 'fast' is not of type number"),
        (json.dumps({**SUMMARY, "requests": True}), "is not of type integer"),
        (json.dumps({**SUMMARY, "errorRatePercent": 101}), "above the maximum 100"),
        (json.dumps({**SUMMARY, "extra": 1}), "'extra' is not a declared property"),
        (json.dumps({**SUMMARY, "worst": [{"name": "GET /", "p95Ms": 1}]}), r"\$\.worst\[0\]: 'failures'"),
        (json.dumps({**SUMMARY, "worst": [{"name": "GET /", "p95Ms": 1, "failures": 0}] * 6}), "more than 5"),
    ],
)
def test_a_bad_summary_says_what_is_wrong(text, error):
    with pytest.raises(ValueError, match=error):
        parse_summary(text)


def test_the_summary_is_read_from_the_last_line():
    worst = [{"name": f"GET /{i}", "p95Ms": i, "failures": 0} for i in range(5)]
    summary = parse_summary("log line\n" + json.dumps({**SUMMARY, "worst": worst}))

    assert summary.verdict == "passed"
    assert summary.stats["p95Ms"] == 80
    assert summary.worst == worst


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ({}, "running"),
        ({"active": 1}, "running"),
        ({"succeeded": 1}, "succeeded"),
        ({"failed": 1}, "failed"),
        ({"conditions": [{"type": "Complete", "status": "True"}]}, "succeeded"),
        ({"conditions": [{"type": "Failed", "status": "True", "reason": "DeadlineExceeded"}]}, "failed"),
        ({"conditions": [{"type": "Failed", "status": "False"}]}, "running"),
    ],
)
def test_job_states_follow_the_job_controller(status, state):
    assert job_state({"spec": {"backoffLimit": 0}, "status": status})[0] == state
