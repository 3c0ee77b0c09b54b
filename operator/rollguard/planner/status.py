"""The release's conditions (Ready, Reconciling, Stalled and the domain ones) and the pass's result."""

from __future__ import annotations

from typing import Any

from rollguard.planner.conditions import set_condition
from rollguard.planner.model import Plan
from rollguard.planner.patches import merge_patch
from rollguard.planner.state import FAILED, TERMINAL, ReleasePass


def _domain(p: ReleasePass) -> list[tuple[str, bool, str, str]]:
    migrations = p.status.get("migrations") or {}
    expand_state = migrations.get("expand")
    applied = (
        (True, "ExpandApplied", "expand migrations applied")
        if expand_state == "Succeeded"
        else (True, "MigrationsDisabled", "migrations are disabled")
        if expand_state == "Skipped"
        else (False, "ExpandFailed", migrations.get("message", ""))
        if expand_state == "Failed"
        else (False, "Pending", "expand migrations have not run for this revision")
    )
    test = p.status.get("loadTest") or {}
    completed = p.status.get("completedSteps") or []
    verified = (
        (True, "LoadTestPassed", f"LoadTest {test.get('name')} passed")
        if test.get("phase") == "Passed"
        else (False, "LoadTestFailed", f"LoadTest {test.get('name')} {str(test.get('phase')).lower()}")
        if test.get("phase") in ("Failed", "Error")
        else (True, "NotConfigured", "no load test is configured")
        if "verify" in completed and not test
        else (False, "Pending", "the release has not been verified yet")
    )
    return [("MigrationsApplied", *applied), ("Verified", *verified)]


def release_conditions(p: ReleasePass) -> list[dict[str, Any]]:
    phase = p.status.get("phase") or "Pending"
    message = p.status.get("message", "")
    reason = p.status.get("reason", phase)
    paused = p.spec["paused"] and phase not in TERMINAL
    table = {
        "Ready": (
            phase == "Succeeded",
            "Succeeded" if phase == "Succeeded" else reason if phase in FAILED else phase,
        ),
        "Reconciling": (phase not in TERMINAL and not paused, "Paused" if paused else phase),
        "Stalled": (phase in FAILED, phase if phase in FAILED else "Progressing"),
    }
    conditions: list[dict[str, Any]] = list(p.status.get("conditions") or [])
    for kind, (state, why) in table.items():
        conditions = set_condition(
            conditions,
            type=kind,
            status=state,
            reason=why,
            message=message,
            generation=p.generation,
            now=p.now,
        )
    for kind, state, why, text in _domain(p):
        conditions = set_condition(
            conditions, type=kind, status=state, reason=why, message=text, generation=p.generation, now=p.now
        )
    return conditions


def result(p: ReleasePass) -> Plan:
    p.status["conditions"] = release_conditions(p)
    p.plan.status = merge_patch(p.old, p.status)
    return p.plan
