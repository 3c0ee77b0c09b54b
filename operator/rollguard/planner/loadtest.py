"""The LoadTest planner: Jobs to create, and the verdict read from the master pod."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from rollguard.builders import build_master_job, build_master_service, build_worker_job
from rollguard.builders.loadtest import master_name, worker_name
from rollguard.builders.spec import loadtest_spec
from rollguard.planner.conditions import parse_timestamp, set_condition, timestamp
from rollguard.planner.model import Action, Event, LoadTestSnapshot, Plan
from rollguard.planner.objects import job_state
from rollguard.planner.patches import merge_patch
from rollguard.planner.summary import parse_summary

FINISHED = frozenset({"Passed", "Failed", "Error"})
# The Job controller enforces activeDeadlineSeconds; this margin covers a controller that never reports.
DEADLINE_GRACE_SECONDS = 30.0


def _terminated(pods: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    for pod in pods:
        for status in (pod.get("status") or {}).get("containerStatuses") or []:
            if terminated := (status.get("state") or {}).get("terminated"):
                return terminated
    return None


def _running(job: Mapping[str, Any], pods: Sequence[Mapping[str, Any]]) -> bool:
    return bool((job.get("status") or {}).get("active")) or any(
        (pod.get("status") or {}).get("phase") == "Running" for pod in pods
    )


class _LoadTestPass:
    def __init__(self, snapshot: LoadTestSnapshot) -> None:
        self.snap = snapshot
        self.loadtest = snapshot.loadtest
        self.name: str = self.loadtest["metadata"]["name"]
        self.namespace: str = self.loadtest["metadata"].get("namespace") or "default"
        self.generation = int(self.loadtest["metadata"].get("generation") or 1)
        self.spec = loadtest_spec(self.loadtest.get("spec") or {})
        self.old: dict[str, Any] = copy.deepcopy(dict(self.loadtest.get("status") or {}))
        self.status: dict[str, Any] = copy.deepcopy(self.old)
        self.plan = Plan()

    def create(self, manifest: dict[str, Any]) -> None:
        meta = manifest["metadata"]
        self.plan.actions.append(
            Action("create", manifest["apiVersion"], manifest["kind"], self.namespace, meta["name"], manifest)
        )

    def move(self, phase: str, message: str) -> None:
        if self.status.get("phase") != phase:
            kind: Literal["Normal", "Warning"] = "Warning" if phase in ("Failed", "Error") else "Normal"
            self.plan.events.append(Event(kind, phase, message))
            if phase == "Running":
                self.status["startedAt"] = timestamp(self.snap.now)
            if phase in FINISHED:
                self.status["finishedAt"] = timestamp(self.snap.now)
                self.plan.outcome = phase
        self.status["phase"] = phase
        self.status["message"] = message

    def result(self) -> Plan:
        phase = self.status.get("phase", "Pending")
        message = self.status.get("message", "")
        now, generation = self.snap.now, self.generation
        conditions: list[dict[str, Any]] = list(self.status.get("conditions") or [])
        for kind, state, reason in (
            ("Complete", phase in FINISHED, phase),
            ("Ready", phase == "Passed", phase),
            ("Stalled", phase in ("Failed", "Error"), phase),
        ):
            conditions = set_condition(
                conditions,
                type=kind,
                status=state,
                reason=reason,
                message=message,
                generation=generation,
                now=now,
            )
        self.status["conditions"] = conditions
        self.plan.status = merge_patch(self.old, self.status)
        return self.plan


def _judge(p: _LoadTestPass, master: Mapping[str, Any]) -> None:
    """Finish the run from the master's termination message, or report why there is none."""
    terminated = _terminated(p.snap.master_pods)
    if terminated is not None:
        text = str(terminated.get("message") or "").strip()
        if text:
            try:
                summary = parse_summary(text)
            except ValueError as exc:
                p.move("Error", f"the master's summary is unparseable ({exc}): {text[:200]}")
                return
            p.status.update(
                verdict=summary.verdict, reasons=summary.reasons, stats=summary.stats, worst=summary.worst
            )
            if summary.verdict == "passed":
                p.move(
                    "Passed",
                    f"p95 {summary.stats.get('p95Ms')} ms, errors {summary.stats.get('errorRatePercent')}%",
                )
            else:
                p.move("Failed", "; ".join(summary.reasons) or "thresholds missed")
            return
        code = terminated.get("exitCode")
        if code not in (None, 0):
            reason = terminated.get("reason", "Error")
            p.move("Error", f"the master exited with code {code} ({reason}) without a summary")
            return
    state, detail = job_state(master)
    if state == "failed":
        p.move("Error", f"the master Job failed without a summary: {detail}")
    elif state == "succeeded" or terminated is not None:
        p.move("Error", "the master finished without a summary")
    elif _overdue(p):
        p.move(
            "Error",
            f"the master did not finish within activeDeadlineSeconds={p.spec['activeDeadlineSeconds']}",
        )
    elif _running(master, p.snap.master_pods):
        p.move("Running", f"{p.spec['users']} users against {p.spec['target']}")
    else:
        p.move("Pending", "waiting for the master pod to start")


def _overdue(p: _LoadTestPass) -> bool:
    started = parse_timestamp(p.status.get("startedAt")) or parse_timestamp(
        p.loadtest["metadata"].get("creationTimestamp")
    )
    if started is None:
        return False
    limit = p.spec["activeDeadlineSeconds"] + DEADLINE_GRACE_SECONDS
    return (p.snap.now - started).total_seconds() > limit


def plan_loadtest(snapshot: LoadTestSnapshot) -> Plan:
    """Decide the next writes for one LoadTest."""
    p = _LoadTestPass(snapshot)
    if p.status.get("observedGeneration") != p.generation:
        for stale in ("verdict", "reasons", "stats", "worst", "startedAt", "finishedAt"):
            p.status.pop(stale, None)
        p.status["observedGeneration"] = p.generation
        p.status["phase"] = "Pending"
    if p.status.get("phase") in FINISHED:
        return p.result()
    if "locustfile" in p.spec and not snapshot.locustfile_present:
        p.move("Error", f"the locustfile ConfigMap {p.spec['locustfile']['configMapName']!r} does not exist")
        return p.result()
    if p.spec["workers"] > 0:
        if master_name(p.name) not in snapshot.services:
            p.create(build_master_service(p.loadtest))
        if worker_name(p.name) not in snapshot.jobs:
            p.create(build_worker_job(p.loadtest))
    master = snapshot.jobs.get(master_name(p.name))
    if master is None:
        p.create(build_master_job(p.loadtest))
        p.move("Pending", f"master Job {master_name(p.name)} created")
        return p.result()
    _judge(p, master)
    return p.result()


def plan_loadtest_rejection(snapshot: LoadTestSnapshot, refused: str) -> Plan:
    """The API refused a request of this LoadTest for good: it ends `Error` (Stalled) with the message."""
    p = _LoadTestPass(snapshot)
    p.move("Error", f"the API refused {refused}")
    return p.result()
