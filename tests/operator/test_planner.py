"""The release planner, pure: a snapshot in, actions and one status patch out."""

from __future__ import annotations

import copy
import datetime

import pytest

from rollguard.builders import pod_template, revision_of
from rollguard.builders.deployment import api_selector
from rollguard.planner import ProbeResult, ReleaseSnapshot, plan_release, wants_probe
from rollguard.planner.patches import merge_patch

T0 = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.UTC)


def at(seconds: float) -> datetime.datetime:
    return T0 + datetime.timedelta(seconds=seconds)


def stamp(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def template(image: str) -> dict:
    return {"metadata": {"labels": {"app": "api"}}, "spec": {"containers": [{"name": "api", "image": image}]}}


V1, V2 = template("api:v1"), template("api:v2")
R1, R2 = revision_of(V1), revision_of(V2)


def release(status: dict | None = None, generation: int = 2, annotations: dict | None = None, **spec) -> dict:
    body = {
        "apiVersion": "rollguard.dev/v1alpha1",
        "kind": "ApiRelease",
        "metadata": {"name": "api", "namespace": "ns", "uid": "u1", "generation": generation},
        "spec": {
            "replicas": 2,
            "template": copy.deepcopy(V2),
            "service": {"name": "api", "port": 80},
            "health": {"readyTimeoutSeconds": 60, "maxRestarts": 2, "verify": {"retries": 2}},
            **spec,
        },
        "status": status or {},
    }
    if annotations:
        body["metadata"]["annotations"] = annotations
    return body


def in_phase(phase: str, done: list[str], **extra) -> dict:
    """A status of generation 2 (revision R2), in `phase` since T0, with v1 stable."""
    return {
        "observedGeneration": 2,
        "currentRevision": R2,
        "phase": phase,
        "phaseStartedAt": stamp(T0),
        "completedSteps": done,
        "stableRevision": R1,
        "stableTemplate": copy.deepcopy(V1),
        **extra,
    }


def job(name: str, state: str) -> dict:
    conditions = {"running": [], "succeeded": [{"type": "Complete", "status": "True"}]}.get(
        state, [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]
    )
    return {"metadata": {"name": name}, "spec": {"backoffLimit": 0}, "status": {"conditions": conditions}}


def deployment(revision: str, ready: int = 2, total: int = 2, conditions: list | None = None) -> dict:
    return {
        "metadata": {"name": "api", "generation": 3},
        "spec": {
            "replicas": 2,
            "selector": api_selector("api"),
            "template": pod_template("api", {R1: V1, R2: V2}.get(revision, V2)),
        },
        "status": {
            "observedGeneration": 3,
            "replicas": total,
            "updatedReplicas": 2,
            "readyReplicas": ready,
            "availableReplicas": ready,
            "conditions": conditions or [],
        },
    }


def pod(revision: str, ready: bool = True, restarts: int = 0, role: str | None = None) -> dict:
    labels = {"rollguard.dev/release": "api", "rollguard.dev/revision": revision}
    if role:
        labels["rollguard.dev/role"] = role
    return {
        "metadata": {"name": f"api-{revision}-{id(labels)}", "labels": labels},
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "containerStatuses": [{"name": "api", "restartCount": restarts}],
        },
    }


def snap(rel: dict, now: datetime.datetime = T0, **observed) -> ReleaseSnapshot:
    return ReleaseSnapshot(
        release=rel,
        deployment=observed.get("deployment"),
        pods=observed.get("pods", []),
        jobs={j["metadata"]["name"]: j for j in observed.get("jobs", [])},
        loadtest=observed.get("loadtest"),
        now=now,
        probe=observed.get("probe"),
    )


def created(plan) -> list[str]:
    return [f"{a.kind}/{a.name}" for a in plan.actions if a.verb == "create"]


def condition(plan, kind: str) -> dict:
    return next(c for c in plan.status["conditions"] if c["type"] == kind)


# -- starting a generation ----------------------------------------------------------


def test_a_new_generation_starts_with_the_lint_job_and_reconciling():
    plan = plan_release(snap(release()))

    assert created(plan) == [f"Job/api-lint-{R2}"]
    assert plan.status["phase"] == "Linting"
    assert plan.status["observedGeneration"] == 2
    assert plan.status["currentRevision"] == R2
    assert condition(plan, "Reconciling")["status"] == "True"
    assert condition(plan, "Ready")["status"] == "False"
    assert condition(plan, "Stalled")["status"] == "False"


@pytest.mark.parametrize(
    ("migrations", "first"),
    [
        ({"lint": False}, f"Job/api-expand-{R2}"),
        ({"enabled": False}, "Deployment/api"),
        ({}, f"Job/api-lint-{R2}"),
    ],
)
def test_disabled_migration_steps_are_skipped(migrations, first):
    plan = plan_release(snap(release(migrations=migrations)))

    assert created(plan) == [first]


def test_a_release_without_migrations_never_enters_linting_or_expanding():
    plan = plan_release(snap(release(status={"phase": "Succeeded"}, migrations={"enabled": False})))

    assert plan.status["phase"] == "RollingOut"
    assert [event.reason for event in plan.events] == ["Pending", "RollingOut"]
    assert [phase for phase, _ in plan.phase_exits] == ["Pending"]
    assert plan.status["completedSteps"] == ["lint", "expand", "canary"]
    assert plan.status["migrations"] == {"lint": "Skipped", "expand": "Skipped"}
    assert condition(plan, "MigrationsApplied")["reason"] == "MigrationsDisabled"


@pytest.mark.parametrize(
    ("spec", "entered"),
    [
        ({}, ["Linting"]),
        ({"migrations": {"lint": False}}, ["Expanding"]),
        ({"migrations": {"enabled": False}}, ["RollingOut"]),
    ],
)
def test_only_a_step_with_work_enters_its_phase(spec, entered):
    plan = plan_release(snap(release(**spec)))

    assert [event.reason for event in plan.events] == ["Pending", *entered]


def test_without_a_load_test_or_a_contract_the_rollout_ends_the_release():
    rel = release(in_phase("RollingOut", ["lint", "expand"]), migrations={"contractPolicy": "Never"})
    plan = plan_release(snap(rel, deployment=deployment(R2), pods=[pod(R2), pod(R2)]))

    assert plan.status["phase"] == "Succeeded"
    assert [event.reason for event in plan.events if event.reason in ("Verifying", "Contracting")] == []
    assert [phase for phase, _ in plan.phase_exits] == ["RollingOut"]
    assert plan.status["migrations"]["contract"] == "Skipped"


def test_a_spec_change_in_flight_supersedes_the_old_revision():
    old = in_phase("Verifying", ["lint", "expand", "rollout"], observedGeneration=1, currentRevision=R1)

    plan = plan_release(snap(release(old)))

    assert plan.status["observedGeneration"] == 2
    assert plan.status["phase"] == "Linting"
    assert plan.status["completedSteps"] == []
    assert "Superseded" in [e.reason for e in plan.events]


def test_a_running_job_is_waited_for_without_new_writes():
    plan = plan_release(snap(release(in_phase("Linting", [])), jobs=[job(f"api-lint-{R2}", "running")]))

    assert plan.actions == []
    assert plan.requeue_after is None  # the Job's watch events wake the release, then the resync
    assert "phase" not in plan.status


# -- migrations ---------------------------------------------------------------------


def migration_pod(phase: str, exit_code: int, reason: str = "Error", message: str = "") -> dict:
    labels = {
        "rollguard.dev/release": "api",
        "rollguard.dev/revision": R2,
        "rollguard.dev/role": f"migrate-{phase}",
    }
    terminated = {"exitCode": exit_code, "reason": reason, "message": message}
    return {
        "metadata": {"name": f"api-{phase}-{R2}-x", "labels": labels},
        "status": {
            "phase": "Failed",
            "containerStatuses": [{"name": "migrate", "state": {"terminated": terminated}}],
        },
    }


def test_unsafe_lint_blocks_the_release_with_nothing_changed():
    plan = plan_release(
        snap(
            release(in_phase("Linting", [])),
            jobs=[job(f"api-lint-{R2}", "failed")],
            pods=[migration_pod("lint", 2, message='{"ok": false}')],
        )
    )

    assert plan.actions == []
    assert plan.status["phase"] == "Blocked"
    assert plan.status["reason"] == "UnsafeMigration"
    assert condition(plan, "Stalled").items() >= {"status": "True", "reason": "Blocked"}.items()
    assert condition(plan, "Ready")["reason"] == "UnsafeMigration"


@pytest.mark.parametrize(
    ("pods", "said"),
    [
        ([migration_pod("lint", 137, "OOMKilled")], "exit 137 (OOMKilled)"),
        ([migration_pod("lint", 1, message="ImportError: no module named billing")], "ImportError"),
        ([migration_pod("lint", 3, message="another migrate_phase holds the migration lock")], "exit 3"),
        ([], "BackoffLimitExceeded"),
    ],
    ids=["oom", "crash", "locked", "no pod left"],
)
def test_a_lint_job_that_fails_for_another_reason_is_not_called_unsafe(pods, said):
    plan = plan_release(
        snap(release(in_phase("Linting", [])), jobs=[job(f"api-lint-{R2}", "failed")], pods=pods)
    )

    assert plan.status["phase"] == "Failed"
    assert plan.status["reason"] == "LintFailed"
    assert said in plan.status["message"]


def test_migration_jobs_retry_a_disrupted_pod_instead_of_failing():
    from rollguard.builders import build_migration_job

    spec = build_migration_job(release(), "expand")["spec"]

    assert spec["backoffLimit"] == 0
    assert spec["podFailurePolicy"]["rules"] == [
        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]}
    ]


def test_a_failed_expand_fails_the_release_before_the_deployment_is_touched():
    jobs = [job(f"api-lint-{R2}", "succeeded"), job(f"api-expand-{R2}", "failed")]

    plan = plan_release(snap(release(in_phase("Expanding", ["lint"])), jobs=jobs))

    assert plan.actions == []
    assert plan.status["phase"] == "Failed"
    assert plan.status["reason"] == "ExpandFailed"
    assert condition(plan, "MigrationsApplied")["status"] == "False"


def test_a_finished_step_is_not_repeated_even_when_its_job_is_gone():
    plan = plan_release(snap(release(in_phase("Expanding", ["lint"], migrations={"expand": "Succeeded"}))))

    assert created(plan) == ["Deployment/api"]


# -- rollout and health -------------------------------------------------------------


def test_the_rollout_patches_the_deployment_to_the_new_revision():
    plan = plan_release(snap(release(in_phase("RollingOut", ["lint", "expand"])), deployment=deployment(R1)))

    (action,) = plan.actions
    assert action.verb == "patch"
    ops = {op["path"]: op["value"] for op in action.body}
    assert ops["/spec/template"]["metadata"]["labels"]["rollguard.dev/revision"] == R2
    assert ops["/spec/strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def scaled(deployment_body: dict, replicas: int) -> dict:
    """The Deployment after an autoscaler set its size and its controller caught up."""
    result = copy.deepcopy(deployment_body)
    result["spec"]["replicas"] = replicas
    result["status"].update(
        replicas=replicas, updatedReplicas=replicas, readyReplicas=replicas, availableReplicas=replicas
    )
    return result


@pytest.mark.parametrize(("autoscaling", "patched"), [(False, True), (True, False)])
def test_an_autoscaled_size_is_left_to_the_autoscaler(autoscaling, patched):
    plan = plan_release(
        snap(
            release(in_phase("RollingOut", ["lint", "expand"]), autoscaling=autoscaling),
            deployment=scaled(deployment(R1), 5),
        )
    )

    (action,) = plan.actions
    assert ("/spec/replicas" in {op["path"] for op in action.body}) is patched
    assert {op["path"] for op in action.body} >= {"/spec/template", "/spec/strategy"}


@pytest.mark.parametrize(("autoscaling", "writes"), [(False, 1), (True, 0)])
def test_an_autoscaled_deployment_of_the_current_revision_is_not_resized(autoscaling, writes):
    plan = plan_release(
        snap(
            release(in_phase("RollingOut", ["lint", "expand"]), autoscaling=autoscaling),
            deployment=scaled(deployment(R2), 5),
            pods=[pod(R2)] * 5,
        )
    )

    assert len([a for a in plan.actions if a.verb == "patch"]) == writes


@pytest.mark.parametrize(("ready", "phase"), [(5, "Contracting"), (4, "RollingOut")])
def test_an_autoscaled_rollout_is_judged_by_the_deployments_own_size(ready, phase):
    plan = plan_release(
        snap(
            release(in_phase("RollingOut", ["lint", "expand"]), autoscaling=True),
            deployment=scaled(deployment(R2), 5),
            pods=[pod(R2)] * ready + [pod(R2, ready=False)] * (5 - ready),
        )
    )

    assert plan.status.get("phase", "RollingOut") == phase


def test_a_healthy_rollout_moves_on_to_the_contract_without_a_load_test():
    plan = plan_release(
        snap(
            release(in_phase("RollingOut", ["lint", "expand"])),
            deployment=deployment(R2),
            pods=[pod(R2), pod(R2)],
        )
    )

    # The revision becomes the rollback target before its contract Job may start.
    assert created(plan) == []
    assert plan.status["phase"] == "Contracting"
    assert plan.status["stableRevision"] == R2
    assert condition(plan, "Verified")["reason"] == "NotConfigured"

    status = merge_patch({}, {**in_phase("RollingOut", ["lint", "expand"]), **plan.status})
    follow_up = plan_release(snap(release(status), deployment=deployment(R2), pods=[pod(R2), pod(R2)]))
    assert created(follow_up) == [f"Job/api-contract-{R2}"]


FAILURES = [
    (
        "never ready",
        dict(pods=[pod(R2, ready=False)] * 2, deployment=deployment(R2, ready=0)),
        61,
        "ReadyTimeout",
    ),
    (
        "crash loop",
        dict(pods=[pod(R2, ready=False, restarts=3)], deployment=deployment(R2, ready=0)),
        5,
        "CrashLoop",
    ),
    (
        "deadline",
        dict(
            pods=[],
            deployment=deployment(
                R2,
                ready=0,
                conditions=[{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}],
            ),
        ),
        5,
        "ProgressDeadlineExceeded",
    ),
]


@pytest.mark.parametrize(("case", "observed", "seconds", "reason"), FAILURES, ids=[f[0] for f in FAILURES])
def test_an_unhealthy_rollout_restores_the_stable_template_at_once(case, observed, seconds, reason):
    plan = plan_release(
        snap(release(in_phase("RollingOut", ["lint", "expand"])), now=at(seconds), **observed)
    )

    assert plan.status["phase"] == "RollingBack"
    assert plan.status["rollback"]["reason"] == reason
    assert plan.status["rollback"]["detectionSeconds"] == seconds
    # The decision is written first; the next pass restores the stable template.
    assert plan.actions == []
    assert plan.requeue_after is not None
    assert plan.requeue_after < 0.5
    status = {**in_phase("RollingOut", ["lint", "expand"]), **plan.status}
    follow_up = plan_release(snap(release(status), now=at(seconds), **observed))
    (action,) = follow_up.actions
    ops = {op["path"]: op["value"] for op in action.body}
    assert ops["/spec/template"]["spec"]["containers"][0]["image"] == "api:v1"
    assert [e.reason for e in plan.events] == ["RollingBack"]


@pytest.mark.parametrize(("automatic", "stable"), [(False, True), (True, False)])
def test_without_automatic_rollback_or_a_stable_revision_the_release_fails_in_place(automatic, stable):
    status = in_phase("RollingOut", ["lint", "expand"])
    if not stable:
        del status["stableTemplate"], status["stableRevision"]
    rel = release(status, rollback={"automatic": automatic})

    plan = plan_release(
        snap(rel, now=at(61), deployment=deployment(R2, ready=0), pods=[pod(R2, ready=False)])
    )

    assert plan.status["phase"] == "Failed"
    assert plan.actions == []


def test_a_pending_rollout_waits_until_its_timeout():
    plan = plan_release(
        snap(
            release(in_phase("RollingOut", ["lint", "expand"])),
            now=at(30),
            deployment=deployment(R2, ready=1),
            pods=[pod(R2), pod(R2, ready=False)],
        )
    )

    assert plan.actions == []
    assert plan.status["message"] == f"1 of 2 pods of {R2} Ready"


# -- rollback -----------------------------------------------------------------------


def rolling_back(**rollback) -> dict:
    base = {"reason": "ReadyTimeout", "toRevision": R1, "detectedAt": stamp(T0), "probeAttempts": 0}
    return in_phase("RollingBack", ["lint", "expand"], rollback={**base, **rollback})


def test_a_probe_is_wanted_only_once_the_stable_revision_is_available():
    rel = release(rolling_back())

    assert wants_probe(snap(rel, deployment=deployment(R1, ready=1))) is None
    assert wants_probe(snap(rel, deployment=deployment(R2))) is None
    target = wants_probe(snap(rel, deployment=deployment(R1)))
    assert (target.service, target.namespace, target.port, target.path) == ("api", "ns", 80, "/health/ready")


def test_a_recovered_service_ends_the_rollback_with_its_durations():
    plan = plan_release(
        snap(release(rolling_back()), now=at(12), deployment=deployment(R1), probe=ProbeResult(True, "200"))
    )

    assert plan.status["phase"] == "RolledBack"
    assert plan.status["rollback"]["recoverySeconds"] == 12
    assert plan.status["rollback"]["probeAttempts"] == 1
    assert condition(plan, "Stalled").items() >= {"status": "True", "reason": "RolledBack"}.items()
    assert plan.status["history"][-1]["phase"] == "RolledBack"


@pytest.mark.parametrize(("attempts", "phase"), [(0, None), (1, None), (2, "Failed")])
def test_a_service_that_stays_down_fails_the_rollback_after_its_retries(attempts, phase):
    plan = plan_release(
        snap(
            release(rolling_back(probeAttempts=attempts)),
            deployment=deployment(R1),
            probe=ProbeResult(False, "503"),
        )
    )

    assert plan.status.get("phase") == phase
    assert plan.status["rollback"]["probeAttempts"] == attempts + 1


# -- verification and contract ------------------------------------------------------


def loadtest(phase: str, **status) -> dict:
    return {"metadata": {"name": f"api-verify-{R2}"}, "status": {"phase": phase, **status}}


LOADTEST = {"enabled": True, "image": "lt:1", "thresholds": {"p95Ms": 500, "errorRatePercent": 5}}


@pytest.mark.parametrize(("on_failure", "phase"), [("Rollback", "RollingBack"), ("Ignore", "Contracting")])
def test_a_failed_load_test_rolls_back_unless_ignored(on_failure, phase):
    rel = release(
        in_phase("Verifying", ["lint", "expand", "rollout"]), loadTest={**LOADTEST, "onFailure": on_failure}
    )

    plan = plan_release(
        snap(
            rel,
            deployment=deployment(R2),
            pods=[pod(R2)] * 2,
            loadtest=loadtest("Failed", verdict="failed", reasons=["p95 900 > 500"]),
        )
    )

    assert plan.status["phase"] == phase
    assert plan.status["loadTest"]["verdict"] == "failed"


def test_the_verification_load_test_is_created_for_the_revision():
    rel = release(in_phase("Verifying", ["lint", "expand", "rollout"]), loadTest=LOADTEST)

    plan = plan_release(snap(rel, deployment=deployment(R2), pods=[pod(R2)] * 2))

    assert created(plan) == [f"LoadTest/api-verify-{R2}"]


@pytest.mark.parametrize(
    ("policy", "annotations", "pods", "expected"),
    [
        ("Never", None, [], []),
        ("Manual", None, [], []),
        ("Manual", {"rollguard.dev/approve-contract": R2}, [], [f"Job/api-contract-{R2}"]),
        ("Manual", {"rollguard.dev/approve-contract": R1}, [], []),
        ("AfterVerification", None, [pod(R1)], []),
        ("AfterVerification", None, [pod(R1, role="migrate-expand")], [f"Job/api-contract-{R2}"]),
    ],
)
def test_the_contract_runs_only_when_allowed_and_no_older_pod_is_left(policy, annotations, pods, expected):
    status = in_phase("Contracting", ["lint", "expand", "rollout", "verify"])
    status.update(stableRevision=R2, stableTemplate=copy.deepcopy(V2))
    rel = release(status, annotations=annotations, migrations={"contractPolicy": policy})

    plan = plan_release(snap(rel, deployment=deployment(R2), pods=[pod(R2), pod(R2), *pods]))

    assert created(plan) == expected
    assert (plan.status.get("phase") == "Succeeded") == (policy == "Never")


def test_success_records_the_stable_revision_and_a_bounded_history():
    history = [{"revision": str(i), "phase": "Succeeded"} for i in range(10)]
    status = in_phase("Contracting", ["lint", "expand", "rollout", "verify"], history=history)
    status.update(stableRevision=R2, stableTemplate=copy.deepcopy(V2))

    plan = plan_release(snap(release(status), jobs=[job(f"api-contract-{R2}", "succeeded")]))

    assert plan.status["phase"] == "Succeeded"
    assert {**status, **plan.status}["stableRevision"] == R2
    assert len(plan.status["history"]) == 10
    assert plan.status["history"][-1]["revision"] == R2
    assert condition(plan, "Ready")["status"] == "True"
    assert condition(plan, "Reconciling")["status"] == "False"


# -- guards -------------------------------------------------------------------------


def test_a_terminal_release_writes_nothing_more():
    done = in_phase("Succeeded", ["lint", "expand", "rollout", "verify", "contract"])
    done.update(stableRevision=R2, stableTemplate=copy.deepcopy(V2))
    first = plan_release(snap(release(done), deployment=deployment(R2)))
    settled = release({**done, "conditions": first.status["conditions"]})

    plan = plan_release(snap(settled, now=at(3600), deployment=deployment(R2)))

    assert plan.actions == []
    assert plan.status == {}


def test_a_paused_release_does_nothing_and_says_so():
    plan = plan_release(snap(release(paused=True)))

    assert plan.actions == []
    assert condition(plan, "Reconciling")["reason"] == "Paused"


def test_an_unworkable_spec_stalls_with_a_clear_message():
    plan = plan_release(snap(release(containerName="web")))

    assert plan.actions == []
    assert plan.status["phase"] == "Failed"
    assert condition(plan, "Stalled")["status"] == "True"
    assert "containerName 'web' is not a container" in condition(plan, "Stalled")["message"]


def test_conditions_keep_their_transition_time_while_their_status_holds():
    first = plan_release(snap(release()))
    later = release({**first.status})

    second = plan_release(snap(later, now=at(30), jobs=[job(f"api-lint-{R2}", "running")]))

    before = {c["type"]: c["lastTransitionTime"] for c in first.status["conditions"]}
    after = {c["type"]: c["lastTransitionTime"] for c in second.status["conditions"]}
    assert after == before


@pytest.mark.parametrize(
    ("old", "new", "patch"),
    [
        ({"a": 1}, {"a": 1}, {}),
        ({"a": 1}, {"a": 2}, {"a": 2}),
        ({"a": 1, "b": 2}, {"a": 1}, {"b": None}),
        ({"m": {"x": 1, "y": 2}}, {"m": {"x": 1}}, {"m": {"y": None}}),
        ({"l": [1, 2]}, {"l": [1]}, {"l": [1]}),
        ({}, {"m": {"x": 1}}, {"m": {"x": 1}}),
    ],
)
def test_merge_patches_are_minimal(old, new, patch):
    assert merge_patch(old, new) == patch


def test_a_deployment_with_the_old_selector_is_replaced_and_its_pods_orphaned():
    done = in_phase("Succeeded", ["lint", "expand", "rollout", "verify", "contract"])
    done.update(stableRevision=R2, stableTemplate=copy.deepcopy(V2))
    old = deployment(R2)
    old["spec"]["selector"] = {"matchLabels": {"rollguard.dev/release": "api"}}

    plan = plan_release(snap(release(done), deployment=old, pods=[pod(R2)] * 2))

    assert [(a.verb, a.kind) for a in plan.actions] == [("delete", "Deployment"), ("create", "Deployment")]
    assert plan.actions[0].body == {"propagationPolicy": "Orphan"}
    assert plan.actions[1].body["spec"]["selector"] == api_selector("api")
