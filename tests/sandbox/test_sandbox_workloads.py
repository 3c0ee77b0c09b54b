"""The shared workload rules beyond the rollout arithmetic: Jobs, pausing, owners, finalizers, pod status."""

import pytest

from rollguard_sandbox.workloads import (
    FINALIZER,
    RolloutCounts,
    deployment_status,
    finalizer_release,
    job_pod,
    plan_job,
    pod_ready,
    pod_status,
    pods_by_owner,
    stamp_seconds,
)

START = "2026-01-01T00:00:00Z"
T0 = stamp_seconds(START)


def job(**spec):
    return {
        "metadata": {"name": "smoke-worker", "namespace": "claims", "uid": "u-1"},
        "spec": {
            "template": {"metadata": {"labels": {"role": "worker"}}, "spec": {"containers": []}},
            **spec,
        },
        "status": {"startTime": START},
    }


def pod(name, phase, owner="smoke-worker", kind="Job"):
    ref = {"kind": kind, "name": owner, "controller": True}
    return {
        "metadata": {"name": name, "namespace": "claims", "ownerReferences": [ref]},
        "status": {"phase": phase},
    }


def test_a_parallel_job_starts_its_pods_at_once_and_completes_when_all_succeeded():
    first = plan_job(job(parallelism=2, completions=2), [], now=T0 + 1, deadline=None)
    assert (first.create, first.status["active"]) == (2, 2)

    half = plan_job(
        job(parallelism=2, completions=2),
        [pod("a", "Succeeded"), pod("b", "Running")],
        now=T0 + 2,
        deadline=None,
    )
    assert half.create == 0
    assert not half.status.get("conditions")

    done = plan_job(
        job(parallelism=2, completions=2),
        [pod("a", "Succeeded"), pod("b", "Succeeded")],
        now=T0 + 3,
        deadline=None,
    )
    assert [c["type"] for c in done.status["conditions"]] == ["Complete"]
    assert (done.status["succeeded"], done.status["active"]) == (2, 0)


@pytest.mark.parametrize(
    ("pods", "now", "reason", "stopped"),
    [
        ([pod("a", "Failed")], T0 + 1, "BackoffLimitExceeded", ()),
        ([pod("a", "Running")], T0 + 61, "DeadlineExceeded", ("a",)),
    ],
)
def test_a_job_fails_for_good_past_its_backoff_limit_or_deadline(pods, now, reason, stopped):
    step = plan_job(job(backoffLimit=0), pods, now=now, deadline=60)

    assert [(c["type"], c["reason"]) for c in step.status["conditions"]] == [("Failed", reason)]
    assert step.delete == stopped
    assert step.create == 0


def test_a_job_pod_is_owned_labelled_and_held_by_the_kubelet():
    made = job_pod(job())

    assert made["metadata"]["labels"] == {
        "role": "worker",
        "job-name": "smoke-worker",
        "batch.kubernetes.io/job-name": "smoke-worker",
        "controller-uid": "u-1",
    }
    assert (
        made["metadata"]["ownerReferences"][0] | {"kind": "Job", "uid": "u-1"}
        == made["metadata"]["ownerReferences"][0]
    )
    assert made["metadata"]["finalizers"] == [FINALIZER]
    assert made["spec"]["restartPolicy"] == "Never"


def test_pods_are_indexed_by_their_controller():
    index = pods_by_owner(
        [pod("a", "Running"), pod("b", "Running", "claims-api", "Deployment"), {"metadata": {"name": "c"}}]
    )

    assert {key: [p["metadata"]["name"] for p in pods] for key, pods in index.items()} == {
        ("Job", "claims", "smoke-worker"): ["a"],
        ("Deployment", "claims", "claims-api"): ["b"],
    }


def test_only_the_kubelets_own_finalizer_is_released():
    assert finalizer_release({"metadata": {"finalizers": [FINALIZER, "other"]}}) == {
        "metadata": {"finalizers": ["other"]}
    }
    assert finalizer_release({"metadata": {"finalizers": [FINALIZER]}}) == {"metadata": {"finalizers": None}}
    assert finalizer_release({"metadata": {"finalizers": ["other"]}}) is None


def test_a_paused_deployment_reports_paused_and_no_deadline():
    status = deployment_status(
        name="api",
        desired=2,
        max_unavailable=0,
        counts=RolloutCounts(replicas=3, updated=1, ready=2, old=2),
        generation=4,
        seconds_since_progress=999,
        progress_deadline=10,
        progress_stamp=START,
        paused=True,
    )

    progressing = next(c for c in status["conditions"] if c["type"] == "Progressing")
    assert (progressing["status"], progressing["reason"]) == ("Unknown", "DeploymentPaused")


@pytest.mark.parametrize("ready", [True, False])
def test_pod_status_says_ready_in_both_conditions(ready):
    status = pod_status(phase="Running", ready=ready, started_at=START, containers=[{"name": "api"}])

    assert pod_ready({"status": status}) is ready
    assert {c["type"]: c["status"] for c in status["conditions"]}["ContainersReady"] == str(ready)
