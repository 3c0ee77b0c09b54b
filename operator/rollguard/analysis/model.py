"""Analysis measurements and verdicts (pure). A minimal stand-in with the agreed names."""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

Phase = Literal["Successful", "Failed", "Inconclusive", "Error"]
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


@dataclass(frozen=True)
class Measurement:
    phase: Phase
    value: str | None
    message: str
    started_at: str
    finished_at: str

    def to_status(self) -> dict[str, object]:
        status: dict[str, object] = {
            "phase": self.phase,
            "message": self.message,
            "startedAt": self.started_at,
            "finishedAt": self.finished_at,
        }
        if self.value is not None:
            status["value"] = self.value
        return status

    @classmethod
    def from_status(cls, raw: Mapping[str, object]) -> Measurement:
        value = raw.get("value")
        return cls(
            phase=str(raw.get("phase", "Error")),  # type: ignore[arg-type]
            value=None if value is None else str(value),
            message=str(raw.get("message", "")),
            started_at=str(raw.get("startedAt", "")),
            finished_at=str(raw.get("finishedAt", "")),
        )


@dataclass(frozen=True)
class Verdict:
    phase: Literal["Running", "Successful", "Failed", "Inconclusive", "Error"]
    message: str
    next_measurement_in: float | None


def _seconds(text: object) -> float:
    match = re.fullmatch(r"([0-9]+)(ms|s|m|h)", str(text))
    return int(match.group(1)) * _UNITS[match.group(2)] if match else 10.0


def _parse(text: str) -> datetime.datetime | None:
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def judge(
    metric: Mapping[str, object], measurements: Sequence[Measurement], now: datetime.datetime
) -> Verdict:
    def limit(key: str, default: int) -> int:
        return int(metric.get(key, default))  # type: ignore[call-overload]

    phases = [m.phase for m in measurements]
    consecutive = 0
    for phase in reversed(phases):
        if phase != "Error":
            break
        consecutive += 1
    if phases.count("Failed") > limit("failureLimit", 0):
        return Verdict("Failed", f"{phases.count('Failed')} measurement(s) failed", None)
    if phases.count("Inconclusive") > limit("inconclusiveLimit", 0):
        return Verdict("Inconclusive", f"{phases.count('Inconclusive')} inconclusive measurement(s)", None)
    if consecutive > limit("consecutiveErrorLimit", 4):
        return Verdict("Error", f"{consecutive} errors in a row: {measurements[-1].message}", None)
    if len([p for p in phases if p != "Error"]) >= limit("count", 1):
        return Verdict("Successful", f"{len(phases)} measurement(s)", None)
    if not measurements:
        return Verdict("Running", "no measurement yet", 0.0)
    last = _parse(measurements[-1].finished_at)
    waited = (now - last).total_seconds() if last else float("inf")
    return Verdict(
        "Running", f"{len(phases)} measurement(s)", max(0.0, _seconds(metric.get("interval")) - waited)
    )


def judge_all(verdicts: Sequence[Verdict]) -> Verdict:
    for phase in ("Failed", "Error", "Inconclusive"):
        for verdict in verdicts:
            if verdict.phase == phase:
                return verdict
    running = [v for v in verdicts if v.phase == "Running"]
    if not running:
        return Verdict("Successful", "every metric passed", None)
    waits = [v.next_measurement_in for v in running if v.next_measurement_in is not None]
    return Verdict("Running", running[0].message, min(waits) if waits else None)
