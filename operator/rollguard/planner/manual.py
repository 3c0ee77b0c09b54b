"""Manual control by annotation: abort a release in flight, and drop spent promote and abort
requests once a written status shows them acted on (never in the pass that acts)."""

from __future__ import annotations

from rollguard.builders.spec import ABORT_ANNOTATION, PROMOTE_ANNOTATION
from rollguard.planner.canary import promote_target
from rollguard.planner.model import Event
from rollguard.planner.state import TERMINAL, ReleasePass, Rollback


def _annotation(p: ReleasePass, key: str) -> str | None:
    return (p.release["metadata"].get("annotations") or {}).get(key)


def abort(p: ReleasePass) -> bool:
    """`rollguard abort`: a release in flight is rolled back as if its last check had failed. An
    aborted canary needs nothing but its own pods gone: the stable revision never stopped serving."""
    phase = p.status.get("phase")
    if _annotation(p, ABORT_ANNOTATION) != p.revision or phase in TERMINAL or phase == "RollingBack":
        return False
    where = f"step {p.status.get('currentStepIndex')}" if phase == "Canary" else str(phase)
    message = f"aborted on request in {where}"
    p.plan.events.append(Event("Warning", "Aborted", f"revision {p.revision}: {message}"))
    p.start_rollback(Rollback("Aborted", message))
    return True


def _spent_abort(p: ReleasePass, value: str) -> bool:
    phase = p.old.get("phase")
    return value != p.revision or phase in TERMINAL or phase == "RollingBack"


def _spent_promote(p: ReleasePass, value: str) -> bool:
    target = promote_target(value, p.revision)
    if target is None or p.old.get("phase") in TERMINAL:
        return True
    if p.old.get("canaryRevision") != p.revision:
        return False
    index = int(p.old.get("currentStepIndex") or 0)
    return (
        index > target
        if isinstance(target, int)
        else index >= len((p.spec["strategy"].get("canary") or {}).get("steps") or [])
    )


def consume_requests(p: ReleasePass) -> None:
    spent = [
        key
        for key, is_spent in ((ABORT_ANNOTATION, _spent_abort), (PROMOTE_ANNOTATION, _spent_promote))
        if (value := _annotation(p, key)) is not None and is_spent(p, value)
    ]
    if spent:
        p.remove_annotations(spent)
