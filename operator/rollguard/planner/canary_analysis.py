"""A canary's analysis step: measurements in, a verdict out, everything recorded in `status.analysis`.

A `loadTest` metric is measured here, by the LoadTest the planner creates against the canary
Service; `prometheus` and `web` metrics are measured by the runtime (`due_measurements` says
which are due) and handed in through the snapshot. The judging is the analysis model's."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from rollguard.analysis.model import Measurement, Verdict, judge, judge_all
from rollguard.builders.canary import analysis_loadtest_name, build_analysis_loadtest
from rollguard.builders.spec import release_spec, revision_of
from rollguard.planner.conditions import timestamp
from rollguard.planner.model import Event, ReleaseSnapshot
from rollguard.planner.state import NEXT_PASS, Done, Outcome, ReleasePass, Rollback, Wait

LOADTEST = "loadTest"
_LOADTEST_PHASES = {"Passed": "Successful", "Failed": "Failed", "Error": "Error"}


def provider_of(metric: Mapping[str, Any]) -> str:
    return next(iter(metric.get("provider") or {LOADTEST: {}}))


def _fresh(index: int, metrics: Sequence[Mapping[str, Any]], now: str) -> dict[str, Any]:
    return {
        "stepIndex": index,
        "phase": "Running",
        "message": "started",
        "startedAt": now,
        "metrics": [
            {"name": metric["name"], "phase": "Running", "taken": 0, "measurements": []} for metric in metrics
        ],
    }


def _loadtest_measurement(
    p: ReleasePass, index: int, metric: Mapping[str, Any], state: Mapping[str, Any], due: bool
) -> tuple[Measurement | None, bool]:
    """(the finished LoadTest's measurement or None, whether one is running)."""
    name = analysis_loadtest_name(p.name, p.revision, index, metric["name"], int(state["taken"]))
    test = p.snap.loadtests.get(name)
    if test is None:
        if not due:
            return None, False
        p.act(
            "create",
            build_analysis_loadtest(p.release, step=index, metric=metric["name"], taken=state["taken"]),
        )
        return None, True
    status = test.get("status") or {}
    phase = _LOADTEST_PHASES.get(str(status.get("phase")))
    if phase is None:
        return None, True
    stats = status.get("stats") or {}
    value = {key: stats[key] for key in ("requests", "p95Ms", "errorRatePercent", "workers") if key in stats}
    reasons = "; ".join(status.get("reasons") or []) or str(status.get("message") or "")
    measurement = Measurement(
        phase=phase,  # type: ignore[arg-type]
        value=json.dumps(value, sort_keys=True),
        message="" if phase == "Successful" else f"LoadTest {name}: {reasons}",
        started_at=str(status.get("startedAt") or timestamp(p.now)),
        finished_at=str(status.get("finishedAt") or timestamp(p.now)),
    )
    return measurement, False


def _measurements(state: Mapping[str, Any]) -> list[Measurement]:
    return [Measurement.from_status(raw) for raw in state.get("measurements") or []]


def _record(state: dict[str, Any], measurement: Measurement) -> None:
    """Adds `measurement`, keeping exactly what the verdict counts: every measurement that is not
    an error, and the errors since the last one that is (an error followed by a result counts for
    nothing any more). The CRD's limits bound the list; nothing the verdict needs is dropped."""
    kept = [*state.get("measurements", []), measurement.to_status()]
    last_result = max((i for i, raw in enumerate(kept) if raw.get("phase") != "Error"), default=-1)
    state["measurements"] = [
        raw for i, raw in enumerate(kept) if raw.get("phase") != "Error" or i > last_result
    ]
    state["taken"] = int(state.get("taken", 0)) + 1


def run_analysis(p: ReleasePass, index: int, analysis: Mapping[str, Any]) -> Outcome:
    metrics = analysis["metrics"]
    state = p.status.get("analysis")
    if not state or state.get("stepIndex") != index:
        p.status["analysis"] = _fresh(index, metrics, timestamp(p.now))
        p.plan.events.append(Event("Normal", "AnalysisStarted", f"step {index}: {len(metrics)} metric(s)"))
        return Wait(f"analysis at step {index} started", after=NEXT_PASS)
    verdicts: list[Verdict] = []
    running_tests = False
    for metric, metric_state in zip(metrics, state["metrics"], strict=True):
        before = judge(metric, _measurements(metric_state), p.now)
        due = before.phase == "Running" and (before.next_measurement_in or 0.0) <= 0
        if provider_of(metric) == LOADTEST:
            new, running = _loadtest_measurement(p, index, metric, metric_state, due)
            running_tests = running_tests or running
        else:
            new = p.snap.measurements.get(metric["name"]) if before.phase == "Running" else None
        if new is not None:
            _record(metric_state, new)
            if new.phase != "Successful":
                p.plan.events.append(
                    Event(
                        "Warning", "Measurement", f"{metric['name']}: {new.phase} {new.value}: {new.message}"
                    )
                )
        verdict = judge(metric, _measurements(metric_state), p.now)
        metric_state.update(phase=verdict.phase, message=verdict.message)
        verdicts.append(verdict)
    overall = judge_all(verdicts)
    state.update(phase=overall.phase, message=overall.message)
    if overall.phase == "Running":
        after = None if running_tests else overall.next_measurement_in
        return Wait(f"analysis at step {index}: {overall.message}", after=after)
    failing = next(
        (m["name"] for m, v in zip(metrics, verdicts, strict=True) if v.phase == overall.phase), ""
    )
    said = f"analysis {failing} at step {index} {overall.phase.lower()}: {overall.message}"
    if overall.phase == "Successful":
        p.plan.events.append(Event("Normal", "AnalysisSuccessful", f"step {index}: {overall.message}"))
        return Done()
    p.plan.events.append(Event("Warning", f"Analysis{overall.phase}", said))
    if overall.phase == "Inconclusive":
        # As Argo Rollouts does: neither pass nor fail, a person decides.
        return Wait(f"{said}; rollguard promote {p.name} or rollguard abort {p.name}")
    return Rollback("AnalysisFailed" if overall.phase == "Failed" else "AnalysisError", said)


def analysis_args(release: Mapping[str, Any]) -> dict[str, str]:
    """What `{{args.x}}` in a query or URL stands for."""
    status = release.get("status") or {}
    revision = revision_of(release_spec(release.get("spec") or {})["template"])
    return {
        "release": release["metadata"]["name"],
        "namespace": release["metadata"].get("namespace") or "default",
        "revision": revision,
        "canaryRevision": str(status.get("canaryRevision") or revision),
        "stableRevision": str(status.get("stableRevision") or ""),
    }


def due_measurements(snapshot: ReleaseSnapshot) -> list[Mapping[str, Any]]:
    """The `prometheus` and `web` metrics of the current analysis step whose next measurement is due."""
    release = snapshot.release
    status = release.get("status") or {}
    spec = release_spec(release.get("spec") or {})
    steps = (spec["strategy"].get("canary") or {}).get("steps") or []
    index = status.get("currentStepIndex")
    state = status.get("analysis") or {}
    if status.get("phase") != "Canary" or not isinstance(index, int) or index >= len(steps):
        return []
    if "analysis" not in steps[index] or state.get("stepIndex") != index:
        return []
    if status.get("canaryRevision") != revision_of(spec["template"]):
        return []
    due = []
    for metric, metric_state in zip(
        steps[index]["analysis"]["metrics"], state.get("metrics") or [], strict=False
    ):
        if provider_of(metric) == LOADTEST:
            continue
        verdict = judge(metric, _measurements(metric_state), snapshot.now)
        if verdict.phase == "Running" and (verdict.next_measurement_in or 0.0) <= 0:
            due.append(metric)
    return due
