"""The canary planner, pure: every step kind, manual control, and a restart at every step index."""

from __future__ import annotations

import copy
import datetime

import pytest
from test_crds import cel_holds, schema_of, undeclared
from test_planner import R1, R2, T0, V1, V2, at, release, stamp

from rollguard.analysis.model import Measurement
from rollguard.builders import pod_template
from rollguard.builders.canary import build_canary_deployment, build_canary_service
from rollguard.builders.deployment import api_selector
from rollguard.planner import ReleaseSnapshot, plan_release
from rollguard.planner.canary import split
from rollguard.planner.canary_analysis import analysis_args, due_measurements
from rollguard.planner.model import Plan
from rollguard.planner.patches import apply_merge_patch

LOAD = {"name": "load", "provider": {"loadTest": {}}}
PROM = {
    "name": "errors",
    "interval": "10s",
    "count": 2,
    "successCondition": "result <= 0.05",
    "provider": {"prometheus": {"address": "http://prom:9090", "query": "rate({{args.revision}})"}},
}
STEPS = [
    {"setWeight": 25},
    {"pause": {"duration": "30s"}},
    {"analysis": {"metrics": [LOAD]}},
    {"pause": {}},
    {"analysis": {"metrics": [PROM]}},
    {"setWeight": 100},
]
LOADTEST = {"enabled": False, "image": "lt:1"}


def canary_release(status: dict, annotations: dict | None = None, steps: list | None = None) -> dict:
    return release(
        status,
        annotations=annotations,
        replicas=4,
        loadTest=LOADTEST,
        strategy={"canary": {"steps": steps or STEPS}},
    )


def at_step(index: int, weight: int, started: datetime.datetime = T0, **extra) -> dict:
    """Generation 2 (R2) walking the canary at `index` with v1 stable."""
    return {
        "observedGeneration": 2,
        "currentRevision": R2,
        "phase": "Canary",
        "phaseStartedAt": stamp(T0),
        "completedSteps": ["lint", "expand"],
        "stableRevision": R1,
        "stableTemplate": copy.deepcopy(V1),
        "canaryRevision": R2,
        "currentStepIndex": index,
        "canaryWeight": weight,
        "stepStartedAt": stamp(started),
        **extra,
    }


def stable(replicas: int, revision_template: dict = V1) -> dict:
    return {
        "metadata": {"name": "api", "generation": 1},
        "spec": {
            "replicas": replicas,
            "selector": api_selector("api"),
            "template": pod_template("api", revision_template),
        },
        "status": {"observedGeneration": 1, "replicas": replicas, "availableReplicas": replicas},
    }


def canary(rel: dict, replicas: int, ready: int | None = None) -> dict:
    deployment = build_canary_deployment(rel, replicas)
    deployment["metadata"]["generation"] = 1
    ready = replicas if ready is None else ready
    deployment["status"] = {
        "observedGeneration": 1,
        "replicas": replicas,
        "updatedReplicas": replicas,
        "availableReplicas": ready,
    }
    return deployment


def canary_pods(count: int, ready: bool = True, restarts: int = 0) -> list[dict]:
    labels = {"rollguard.dev/release": "api", "rollguard.dev/revision": R2, "rollguard.dev/track": "canary"}
    return [
        {
            "metadata": {"name": f"api-canary-{index}", "labels": labels},
            "status": {
                "phase": "Running",
                "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                "containerStatuses": [{"name": "api", "restartCount": restarts}],
            },
        }
        for index in range(count)
    ]


def world(rel: dict, now: datetime.datetime = T0, **observed) -> ReleaseSnapshot:
    """The cluster agreeing with the release's weight, unless `observed` says otherwise."""
    weight = int((rel["status"] or {}).get("canaryWeight", 0))
    count, kept = split(weight, 4)
    service = build_canary_service(rel)
    return ReleaseSnapshot(
        release=rel,
        deployment=observed.get("deployment", stable(kept)),
        pods=observed.get("pods", canary_pods(count)),
        jobs={},
        loadtest=None,
        now=now,
        canary=observed.get("canary", canary(rel, count) if count else None),
        services={service["metadata"]["name"]: service},
        loadtests=observed.get("loadtests", {}),
        measurements=observed.get("measurements", {}),
    )


def writes(plan: Plan) -> list[tuple[str, str, str]]:
    return [(action.verb, action.kind, action.name) for action in plan.actions]


def reasons(plan: Plan) -> list[str]:
    return [event.reason for event in plan.events]


def then(rel: dict, plan: Plan) -> dict:
    """The release as the next pass sees it: the plan's status written."""
    following = copy.deepcopy(rel)
    following["status"] = apply_merge_patch(rel["status"], plan.status)
    return following


# -- the replica ratio ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("weight", "replicas", "expected"),
    [
        (0, 4, (0, 4)),
        (25, 4, (1, 3)),
        (10, 4, (1, 3)),
        (50, 4, (2, 2)),
        (25, 2, (1, 1)),
        (60, 2, (2, 1)),
        (10, 1, (1, 1)),
        (99, 10, (10, 1)),
        (100, 3, (3, 0)),
        (20, 10, (2, 8)),
        (21, 10, (3, 7)),
    ],
)
def test_the_canary_rounds_up_and_the_stable_keeps_a_pod_until_100(weight, replicas, expected):
    assert split(weight, replicas) == expected


# -- entering the canary -------------------------------------------------------------


def test_a_first_release_has_no_stable_revision_and_skips_the_canary():
    rel = canary_release(
        {
            "observedGeneration": 2,
            "currentRevision": R2,
            "phase": "Expanding",
            "completedSteps": ["lint", "expand"],
        }
    )
    plan = plan_release(ReleaseSnapshot(rel, None, [], {}, None, T0))

    assert plan.status["phase"] == "RollingOut"
    assert plan.status["completedSteps"] == ["lint", "expand", "canary"]
    assert writes(plan) == [("create", "Deployment", "api")]


def test_expand_runs_before_the_first_canary_step():
    status = at_step(0, 0, phase="Expanding", completedSteps=["lint"])
    del status["canaryRevision"], status["currentStepIndex"]
    job = {"metadata": {"name": f"api-expand-{R2}"}, "spec": {}, "status": {}}
    snapshot = world(canary_release(status))
    plan = plan_release(
        ReleaseSnapshot(snapshot.release, snapshot.deployment, [], {job["metadata"]["name"]: job}, None, T0)
    )

    assert plan.status.get("phase", "Expanding") == "Expanding"
    assert not [w for w in writes(plan) if w[1] == "Deployment"]


def test_the_first_set_weight_creates_the_canary_beside_the_untouched_stable():
    status = at_step(0, 0)
    del status["canaryRevision"], status["currentStepIndex"], status["canaryWeight"]
    rel = canary_release(status)
    snapshot = world(rel)
    plan = plan_release(ReleaseSnapshot(rel, stable(4), [], {}, None, T0, services={}))

    assert writes(plan) == [("create", "Service", "api-canary"), ("create", "Deployment", "api-canary")]
    service, deployment = (action.body for action in plan.actions)
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["selector"]["matchLabels"] == {
        "rollguard.dev/release": "api",
        "rollguard.dev/track": "canary",
    }
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert labels["app"] == "api"  # what the release's Service selects: the canary gets its share
    assert labels["rollguard.dev/revision"] == R2
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert (plan.status["currentStepIndex"], plan.status["canaryWeight"]) == (0, 25)
    assert plan.status["canaryRevision"] == R2
    assert snapshot.deployment is not None


def test_the_stable_deployment_gives_way_only_once_the_canary_pods_are_ready():
    rel = canary_release(at_step(0, 25))
    waiting = plan_release(
        world(rel, deployment=stable(4), canary=canary(rel, 1, ready=0), pods=canary_pods(1, ready=False))
    )
    assert writes(waiting) == []

    ready = plan_release(world(rel, deployment=stable(4)))
    ((verb, kind, name),) = writes(ready)
    assert (verb, kind, name) == ("patch", "Deployment", "api")
    assert ready.actions[0].body == [{"op": "add", "path": "/spec/replicas", "value": 3}]


def test_a_canary_that_crash_loops_aborts():
    rel = canary_release(at_step(2, 25))
    plan = plan_release(world(rel, pods=canary_pods(1, restarts=5)))

    assert plan.status["phase"] == "RollingBack"
    assert plan.status["rollback"]["reason"] == "CrashLoop"


def test_a_canary_not_ready_in_time_aborts_with_ready_timeout():
    rel = canary_release(at_step(0, 25))
    plan = plan_release(
        world(rel, now=at(61), canary=canary(rel, 1, ready=0), pods=canary_pods(1, ready=False))
    )

    assert plan.status["rollback"]["reason"] == "ReadyTimeout"


# -- pause ---------------------------------------------------------------------------


def test_a_timed_pause_waits_its_duration_then_moves_on():
    rel = canary_release(at_step(1, 25))

    early = plan_release(world(rel, now=at(10)))
    assert "currentStepIndex" not in early.status
    assert early.requeue_after == pytest.approx(20, abs=0.1)

    late = plan_release(world(rel, now=at(30)))
    assert late.status["currentStepIndex"] == 2
    assert "CanaryStep" in reasons(late)


def test_a_pause_without_duration_waits_for_a_person():
    rel = canary_release(at_step(3, 25))
    plan = plan_release(world(rel, now=at(3600)))

    assert "currentStepIndex" not in plan.status
    assert plan.requeue_after is None
    assert f"rollguard.dev/promote={R2}:3" in plan.status["message"]


def test_spec_paused_time_does_not_count_against_a_timed_pause():
    rel = canary_release(at_step(1, 25, pausedAt=stamp(at(5))))
    plan = plan_release(world(rel, now=at(25)))  # paused from 5 s to 25 s: 5 s of the 30 s have passed

    assert plan.status["stepStartedAt"] == stamp(at(20))
    assert "currentStepIndex" not in plan.status


# -- promote, abort, retry -----------------------------------------------------------


def test_promote_skips_the_current_step_once():
    rel = canary_release(at_step(3, 25), annotations={"rollguard.dev/promote": f"{R2}:3"})
    plan = plan_release(world(rel))

    assert plan.status["currentStepIndex"] == 4
    assert reasons(plan)[0] == "CanaryStep"
    assert not [w for w in writes(plan) if w[1] == "ApiRelease"]  # consumed only once the status says so

    following = plan_release(world(then(rel, plan)))
    assert ("patch", "ApiRelease", "api") in writes(following)
    assert following.actions[-1].body == {"metadata": {"annotations": {"rollguard.dev/promote": None}}}
    assert following.status.get("currentStepIndex", 4) == 4  # the same request never skips twice


def test_a_full_promote_skips_every_step_left_and_rolls_the_stable_deployment():
    rel = canary_release(at_step(1, 25), annotations={"rollguard.dev/promote": R2})
    plan = plan_release(world(rel))

    assert plan.status["currentStepIndex"] == len(STEPS)
    assert plan.status["canaryWeight"] == 100
    assert plan.status["phase"] == "RollingOut"
    assert "CanaryPromoted" in reasons(plan)


def test_a_promote_of_another_revision_is_dropped_without_effect():
    rel = canary_release(at_step(3, 25), annotations={"rollguard.dev/promote": f"{R1}:3"})
    plan = plan_release(world(rel))

    assert "currentStepIndex" not in plan.status
    assert plan.actions[-1].body == {"metadata": {"annotations": {"rollguard.dev/promote": None}}}


def test_abort_rolls_the_canary_back_and_gives_the_stable_its_replicas():
    rel = canary_release(at_step(3, 25), annotations={"rollguard.dev/abort": R2})
    plan = plan_release(world(rel))

    assert plan.status["phase"] == "RollingBack"
    assert plan.status["reason"] == "Aborted"
    assert "Aborted" in reasons(plan)

    rolling = then(rel, plan)
    restore = plan_release(world(rolling))
    bodies = {(action.name, str(action.body)) for action in restore.actions}
    assert ("api-canary", str([{"op": "add", "path": "/spec/replicas", "value": 0}])) in bodies
    stable_patch = next(a.body for a in restore.actions if (a.kind, a.name) == ("Deployment", "api"))
    assert {"op": "add", "path": "/spec/replicas", "value": 4} in stable_patch
    assert restore.actions[0].body == {"metadata": {"annotations": {"rollguard.dev/abort": None}}}


def test_retry_walks_the_canary_again_from_the_first_step():
    status = at_step(
        4,
        25,
        phase="RolledBack",
        reason="AnalysisFailed",
        failedRevision=R2,
        analysis={"stepIndex": 4, "phase": "Failed", "metrics": []},
    )
    rel = canary_release(status, annotations={"rollguard.dev/retry": R2})
    plan = plan_release(world(rel, deployment=stable(4), canary=None, pods=[]))

    assert "Retry" in reasons(plan)
    following = then(rel, plan)
    assert "currentStepIndex" not in following["status"]
    assert "analysis" not in following["status"]


# -- analysis ------------------------------------------------------------------------


def test_a_load_test_analysis_aims_a_load_test_at_the_canary_service_and_passes():
    rel = canary_release(at_step(2, 25))
    first = plan_release(world(rel))
    assert first.status["analysis"]["stepIndex"] == 2
    assert "AnalysisStarted" in reasons(first)

    rel = then(rel, first)
    second = plan_release(world(rel))
    name = f"api-load-{R2}-s2-0"
    assert writes(second) == [("create", "LoadTest", name)]
    assert second.actions[0].body["spec"]["target"] == {"service": "api-canary", "port": 80}

    rel = then(rel, second)
    passed = {
        "metadata": {"name": name},
        "status": {"phase": "Passed", "stats": {"requests": 10, "p95Ms": 80}},
    }
    third = plan_release(world(rel, loadtests={name: passed}))
    assert third.status["currentStepIndex"] == 3
    (metric,) = third.status["analysis"]["metrics"]
    assert metric["phase"] == "Successful"
    assert metric["measurements"][0]["value"] == '{"p95Ms": 80, "requests": 10}'


def test_a_failed_load_test_analysis_aborts_naming_the_analysis():
    rel = canary_release(at_step(2, 25))
    rel = then(rel, plan_release(world(rel)))
    name = f"api-load-{R2}-s2-0"
    failed = {"metadata": {"name": name}, "status": {"phase": "Failed", "reasons": ["p95 912 ms > 500 ms"]}}
    plan = plan_release(world(rel, loadtests={name: failed}))

    assert plan.status["phase"] == "RollingBack"
    assert plan.status["rollback"]["reason"] == "AnalysisFailed"
    assert "analysis load at step 2 failed" in plan.status["rollback"]["message"]
    assert "AnalysisFailed" in reasons(plan)


def measurement(phase: str, when: datetime.datetime, value: str = "0.01") -> Measurement:
    return Measurement(
        phase, value, "" if phase == "Successful" else "too many errors", stamp(when), stamp(when)
    )


def test_a_prometheus_analysis_is_measured_when_due_and_judged_over_its_count():
    rel = canary_release(at_step(4, 25))
    rel = then(rel, plan_release(world(rel)))
    assert [m["name"] for m in due_measurements(world(rel))] == ["errors"]
    assert analysis_args(rel)["revision"] == R2

    one = plan_release(world(rel, now=at(1), measurements={"errors": measurement("Successful", at(1))}))
    assert one.requeue_after == pytest.approx(10)
    rel = then(rel, one)
    assert due_measurements(world(rel, now=at(5))) == []
    assert [m["name"] for m in due_measurements(world(rel, now=at(11)))] == ["errors"]

    two = plan_release(world(rel, now=at(11), measurements={"errors": measurement("Successful", at(11))}))
    assert two.status["currentStepIndex"] == 5
    assert two.status["analysis"]["phase"] == "Successful"


def test_a_failed_prometheus_measurement_aborts():
    rel = canary_release(at_step(4, 25))
    rel = then(rel, plan_release(world(rel)))
    plan = plan_release(world(rel, now=at(1), measurements={"errors": measurement("Failed", at(1), "0.3")}))

    assert plan.status["rollback"]["reason"] == "AnalysisFailed"
    assert "Measurement" in reasons(plan)


def test_an_inconclusive_analysis_waits_for_a_person():
    rel = canary_release(at_step(4, 25))
    rel = then(rel, plan_release(world(rel)))
    plan = plan_release(
        world(rel, now=at(1), measurements={"errors": measurement("Inconclusive", at(1), "[]")})
    )

    assert "phase" not in plan.status or plan.status["phase"] == "Canary"
    assert "rollguard abort api" in plan.status["message"]
    assert plan.requeue_after is None


def test_errors_between_results_are_dropped_but_no_result_is():
    """F, four errors, S, four errors, F with failureLimit 1 fails: the first failure is still
    counted after more measurements than any fixed window would keep."""
    metric = {**PROM, "count": 5, "failureLimit": 1, "consecutiveErrorLimit": 4}
    steps = [{"analysis": {"metrics": [metric]}}]
    rel = canary_release(at_step(0, 0), steps=steps)
    rel = then(rel, plan_release(world(rel)))
    phases = ["Failed", *["Error"] * 4, "Successful", *["Error"] * 4, "Failed"]
    for second, phase in enumerate(phases):
        now = at(10 * (second + 1))
        plan = plan_release(world(rel, now=now, measurements={"errors": measurement(phase, now)}))
        rel = then(rel, plan)
    state = rel["status"]["analysis"]["metrics"][0]
    assert [m["phase"] for m in state["measurements"]] == ["Failed", "Successful", "Failed"]
    assert state["taken"] == len(phases)
    assert state["phase"] == "Failed"
    assert rel["status"]["phase"] != "Canary"


# -- restarts ------------------------------------------------------------------------


@pytest.mark.parametrize("index", range(len(STEPS) + 1))
def test_a_restarted_operator_goes_on_at_the_step_the_status_names(index):
    """A fresh planner (all it knows is the status) neither repeats an earlier step nor skips one."""
    weight = 100 if index == len(STEPS) else 25
    rel = canary_release(at_step(index, weight, started=at(0)))
    plan = plan_release(world(rel, now=at(1)))

    assert plan.status.get("currentStepIndex", index) in (index, index + 1)
    earlier_tests = [w for w in writes(plan) if w[1] == "LoadTest" and f"-s{index}-" not in w[2]]
    assert earlier_tests == []
    assert ("create", "Deployment", "api-canary") not in writes(plan)
    if index == len(STEPS):
        assert plan.status["phase"] == "RollingOut"
    elif "setWeight" not in STEPS[index]:
        assert plan.status.get("currentStepIndex", index) == index


def test_every_canary_status_field_is_declared():
    rel = canary_release(at_step(4, 25))
    first = plan_release(world(rel))
    rel = then(rel, first)
    second = plan_release(world(rel, now=at(1), measurements={"errors": measurement("Failed", at(1))}))
    for plan in (first, second):
        assert undeclared(schema_of("ApiRelease")["properties"]["status"], then(rel, plan)["status"]) == []


def test_the_stable_template_is_never_written_while_the_canary_walks():
    rel = canary_release(at_step(0, 25))
    plan = plan_release(world(rel, deployment=stable(4)))
    for action in plan.actions:
        if (action.kind, action.name) == ("Deployment", "api"):
            assert all(op["path"] == "/spec/replicas" for op in action.body)
    assert V2 != V1


# -- admission -----------------------------------------------------------------------

STEP_RULES = schema_of("ApiRelease")["properties"]["spec"]["properties"]["strategy"]["properties"]["canary"][
    "properties"
]["steps"]["x-kubernetes-validations"]


ONE_KEY = "each canary step has exactly one of setWeight, pause or analysis"


@pytest.mark.parametrize(
    ("steps", "refused"),
    [
        (STEPS, []),
        ([{"setWeight": 10}, {"setWeight": 10}, {"setWeight": 100}], []),
        ([{"setWeight": 50}, {"pause": {}}, {"setWeight": 25}], ["the setWeight steps must not decrease"]),
        ([{"setWeight": 50, "pause": {}}], [ONE_KEY]),
        ([{}], [ONE_KEY]),
    ],
)
def test_the_step_rules(steps, refused):
    assert [rule["message"] for rule in STEP_RULES if not cel_holds(rule["rule"], steps)] == refused


def test_a_load_test_analysis_without_a_load_test_image_is_an_invalid_spec():
    rel = release(
        at_step(2, 25), replicas=4, strategy={"canary": {"steps": STEPS}}, loadTest={"enabled": False}
    )
    plan = plan_release(world(rel))

    assert (plan.status["phase"], plan.status["reason"]) == ("Failed", "InvalidSpec")
    assert "spec.loadTest.image" in plan.status["message"]


def test_a_superseded_canary_stands_down_before_the_new_revision_lints():
    """Generation 3 (v3) arrives while v2's canary serves a quarter of the requests."""
    v3 = {
        "metadata": {"labels": {"app": "api"}},
        "spec": {"containers": [{"name": "api", "image": "api:v3"}]},
    }
    walking = canary_release(at_step(3, 25))
    rel = copy.deepcopy(walking)
    rel["metadata"]["generation"] = 3
    rel["spec"]["template"] = v3
    plan = plan_release(world(rel, canary=canary(walking, 1)))

    assert plan.status["phase"] == "Linting"
    bodies = {(a.kind, a.name): a.body for a in plan.actions if a.verb == "patch"}
    assert bodies[("Deployment", "api-canary")] == [{"op": "add", "path": "/spec/replicas", "value": 0}]
    assert bodies[("Deployment", "api")] == [{"op": "add", "path": "/spec/replicas", "value": 4}]
    assert "Superseded" in reasons(plan)
