"""Whether an ApiRelease has finished its current generation, read from its status alone.

This is the verdict `rollguard wait` (and so `helm upgrade` through the chart's
hook) acts on: `Ready` and `Stalled` count only once the operator has observed
the current `metadata.generation`, so a verdict of the previous release is
never mistaken for one of this release.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class Readiness:
    state: Literal["ready", "stalled", "waiting"]
    message: str

    @property
    def finished(self) -> bool:
        return self.state != "waiting"


def _condition(status: Mapping[str, Any], kind: str, generation: int) -> Mapping[str, Any] | None:
    """The condition `kind` when it is True and about `generation` (or says nothing about it)."""
    for condition in status.get("conditions") or []:
        if condition.get("type") != kind or condition.get("status") != "True":
            continue
        observed = condition.get("observedGeneration")
        if observed is None or int(observed) == generation:
            return condition
    return None


def readiness(release: Mapping[str, Any]) -> Readiness:
    """Ready, Stalled (with the condition's reason and message), or still waiting (and on what)."""
    generation = int((release.get("metadata") or {}).get("generation") or 1)
    status = release.get("status") or {}
    observed = status.get("observedGeneration")
    if observed is None or int(observed) != generation:
        seen = "no generation" if observed is None else f"generation {observed}"
        return Readiness("waiting", f"the operator has observed {seen} of {generation}")
    if stalled := _condition(status, "Stalled", generation):
        reasons = dict.fromkeys(r for r in (stalled.get("reason"), status.get("reason")) if r)
        why = ", ".join(reasons) or "Stalled"
        return Readiness("stalled", f"Stalled ({why}): {stalled.get('message', '')}".rstrip(": "))
    if ready := _condition(status, "Ready", generation):
        return Readiness("ready", f"Ready: {ready.get('message') or status.get('message', '')}".rstrip(": "))
    phase = status.get("phase") or "Pending"
    return Readiness("waiting", f"{phase}: {status.get('message', '')}".rstrip(": "))
