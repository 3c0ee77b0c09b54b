"""`rollguard promote|abort|retry|status`: the annotation each asks for, and what status prints (pure)."""

from __future__ import annotations

import pytest

from rollguard.control import release_name, render_status, request

STEPS = [
    {"setWeight": 25},
    {"pause": {}},
    {"analysis": {"metrics": [{"name": "errors", "provider": {"loadTest": {}}}]}},
]


def release(**status) -> dict:
    return {
        "metadata": {"name": "api"},
        "spec": {
            "template": {"spec": {"containers": [{"name": "api", "image": "api:2"}]}},
            "strategy": {"canary": {"steps": STEPS}},
        },
        "status": {"currentRevision": "r2", **status},
    }


@pytest.mark.parametrize(
    ("action", "status", "full", "asked"),
    [
        ("promote", {"phase": "Canary", "currentStepIndex": 1}, False, ("rollguard.dev/promote", "r2:1")),
        ("promote", {"phase": "Canary", "currentStepIndex": 1}, True, ("rollguard.dev/promote", "r2")),
        ("abort", {"phase": "Canary"}, False, ("rollguard.dev/abort", "r2")),
        ("abort", {"phase": "Verifying"}, False, ("rollguard.dev/abort", "r2")),
        ("retry", {"phase": "RolledBack", "failedRevision": "r2"}, False, ("rollguard.dev/retry", "r2")),
    ],
)
def test_each_request_is_one_annotation_naming_the_revision(action, status, full, asked):
    assert request(action, release(**status), full=full) == asked


@pytest.mark.parametrize(
    ("action", "status", "complaint"),
    [
        ("promote", {"phase": "Linting"}, "not walking canary steps"),
        ("abort", {"phase": "Succeeded"}, "nothing in flight"),
        ("retry", {"phase": "Succeeded"}, "no failed revision"),
    ],
)
def test_a_request_that_cannot_apply_says_why(action, status, complaint):
    assert complaint in request(action, release(**status))


def test_status_marks_the_current_step_and_lists_the_measurements():
    shown = render_status(
        release(
            phase="Canary",
            currentStepIndex=2,
            canaryWeight=25,
            stableRevision="r1",
            analysis={
                "stepIndex": 2,
                "phase": "Running",
                "message": "1 measurement(s)",
                "metrics": [
                    {
                        "name": "errors",
                        "phase": "Running",
                        "taken": 1,
                        "measurements": [{"phase": "Successful", "value": "0.01", "finishedAt": "T"}],
                    }
                ],
            },
        )
    )

    assert "✔ 0: setWeight 25" in shown
    assert "✔ 1: pause until promoted" in shown
    assert "▶ 2: analysis errors" in shown
    assert "Weight:     25%" in shown
    assert "T Successful 0.01" in shown
    assert "current r2" in shown
    assert "stable r1" in shown


def test_status_marks_the_step_that_failed():
    shown = render_status(release(phase="RolledBack", reason="AnalysisFailed", currentStepIndex=2))

    assert "✖ 2: analysis errors" in shown
    assert "RolledBack (AnalysisFailed)" in shown


@pytest.mark.parametrize("value", ["api", "apirelease/api", "ar/api"])
def test_a_release_is_named_plainly_or_as_kubectl_does(value):
    assert release_name(value) == "api"
