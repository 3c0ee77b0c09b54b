"""Analysis measurements and their verdicts, with Argo Rollouts' AnalysisRun semantics (pure).

A metric of an `analysis` step is measured up to `count` times, `interval`
apart; each measurement ends Successful, Failed, Inconclusive or Error. The
metric is Failed once more than `failureLimit` measurements failed,
Inconclusive once more than `inconclusiveLimit` were inconclusive, Error once
more than `consecutiveErrorLimit` errors came in a row, and Successful once
`count` measurements were taken without any of that. An Error measurement is
retried after `interval` and never counts towards `count`: a provider that
cannot be asked never passes a canary.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal, cast, get_args

from rollguard.analysis.condition import evaluate
from rollguard.analysis.errors import ConditionError, NoData

__all__ = [
    "METRIC_DEFAULTS",
    "Measurement",
    "Phase",
    "Verdict",
    "VerdictPhase",
    "assess",
    "evaluate",
    "judge",
    "judge_all",
    "parse_duration",
    "render",
]

Phase = Literal["Successful", "Failed", "Inconclusive", "Error"]
VerdictPhase = Literal["Running", "Successful", "Failed", "Inconclusive", "Error"]

# Argo Rollouts' defaults, except `count`: a step's analysis must end, so one
# measurement rather than "measure until stopped". The CRD declares the same.
METRIC_DEFAULTS: Mapping[str, object] = MappingProxyType(
    {"interval": "10s", "count": 1, "failureLimit": 0, "inconclusiveLimit": 0, "consecutiveErrorLimit": 4}
)
# How long one provider request may take, when the provider sets no `timeout`.
DEFAULT_TIMEOUT = "5s"

# The worse of two finished verdicts wins a step (Argo's order).
_SEVERITY: Mapping[str, int] = {"Successful": 0, "Inconclusive": 1, "Error": 2, "Failed": 3}
_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_ARGUMENT = re.compile(r"\{\{\s*args\.([A-Za-z0-9_.-]+)\s*\}\}")


@dataclass(frozen=True)
class Measurement:
    """One measurement of one metric, as `status.analysis.metrics[].measurements[]` keeps it."""

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
        """A measurement read back from status; an unknown phase reads as Error, never as a pass."""
        phase = raw.get("phase")
        value = raw.get("value")
        return cls(
            phase=cast(Phase, phase) if phase in get_args(Phase) else "Error",
            value=None if value is None else str(value),
            message=str(raw.get("message") or ""),
            started_at=str(raw.get("startedAt") or ""),
            finished_at=str(raw.get("finishedAt") or ""),
        )


@dataclass(frozen=True)
class Verdict:
    """A metric's (or a step's) state: still Running, or how it ended."""

    phase: VerdictPhase
    message: str
    next_measurement_in: float | None = None


def judge(
    metric: Mapping[str, object], measurements: Sequence[Measurement], now: datetime.datetime
) -> Verdict:
    """The verdict on one metric from all of its measurements so far (oldest first).

    It counts the measurements it is given, so the caller keeps every measurement
    of the running analysis (at most `count` plus the errors in between).
    """
    name = str(metric.get("name") or "metric")
    try:
        count = max(1, _whole(metric, "count"))
        failure_limit = _whole(metric, "failureLimit")
        inconclusive_limit = _whole(metric, "inconclusiveLimit")
        error_limit = _whole(metric, "consecutiveErrorLimit")
        interval = parse_duration(_setting(metric, "interval"))
    except ValueError as exc:
        return Verdict("Error", f"{name}: {exc}")
    phases = [m.phase for m in measurements]
    failed, inconclusive = phases.count("Failed"), phases.count("Inconclusive")
    taken = len(phases) - phases.count("Error")
    errors_in_a_row = next((i for i, phase in enumerate(reversed(phases)) if phase != "Error"), len(phases))
    last = measurements[-1] if measurements else None
    if failed > failure_limit:
        return Verdict(
            "Failed",
            f"{name}: {failed} failed measurement(s), more than failureLimit {failure_limit}"
            + _last(measurements, "Failed"),
        )
    if inconclusive > inconclusive_limit:
        return Verdict(
            "Inconclusive",
            f"{name}: {inconclusive} inconclusive measurement(s),"
            f" more than inconclusiveLimit {inconclusive_limit}" + _last(measurements, "Inconclusive"),
        )
    if errors_in_a_row > error_limit:
        return Verdict(
            "Error",
            f"{name}: {errors_in_a_row} errors in a row, more than consecutiveErrorLimit {error_limit}"
            + _last(measurements, "Error"),
        )
    if taken >= count:
        return Verdict(
            "Successful", f"{name}: {taken - failed - inconclusive} of {taken} measurement(s) successful"
        )
    message = f"{name}: {taken} of {count} measurement(s) taken"
    if last is None:
        return Verdict("Running", message, 0.0)
    if last.phase == "Error":
        message += f", {errors_in_a_row} error(s) in a row" + _last(measurements, "Error")
    finished = _parse_timestamp(last.finished_at)
    elapsed = (now - finished).total_seconds() if finished else interval
    # a last measurement stamped in the future (clock skew) waits one interval, no more
    return Verdict("Running", message, min(interval, max(0.0, interval - elapsed)))


def judge_all(verdicts: Sequence[Verdict]) -> Verdict:
    """A step's verdict from its metrics': the worst finished one that is not Successful
    (Failed, then Error, then Inconclusive) ends the step at once; all Successful pass it;
    otherwise it runs until the earliest next measurement."""
    if not verdicts:
        return Verdict("Error", "the analysis has no metrics")
    unsuccessful = [v for v in verdicts if v.phase not in ("Running", "Successful")]
    if unsuccessful:
        return max(unsuccessful, key=lambda v: _SEVERITY[v.phase])
    running = [v for v in verdicts if v.phase == "Running"]
    if not running:
        return Verdict("Successful", "; ".join(v.message for v in verdicts))
    waits = [v.next_measurement_in for v in running if v.next_measurement_in is not None]
    return Verdict("Running", "; ".join(v.message for v in running), min(waits) if waits else None)


def assess(metric: Mapping[str, object], result: object) -> tuple[Phase, str]:
    """The phase of one measurement whose provider returned `result`, and why.

    As Argo Rollouts: with only a successCondition, not meeting it fails; with only
    a failureCondition, not meeting it succeeds; with both, meeting neither is
    Inconclusive (and meeting both fails). With neither, the answer is recorded
    but Inconclusive: nothing said it is good. A condition that meets NaN or null
    is Inconclusive, one that does not apply is Error.
    """
    success = str(metric.get("successCondition") or "")
    failure = str(metric.get("failureCondition") or "")
    try:
        succeeded = evaluate(success, result) if success else None
        failed = evaluate(failure, result) if failure else None
    except NoData as exc:
        return "Inconclusive", str(exc)
    except ConditionError as exc:
        return "Error", str(exc)
    if failed is None and succeeded is None:
        return "Inconclusive", "the metric has neither a successCondition nor a failureCondition"
    if failed:
        return "Failed", f"failureCondition {failure!r} holds"
    if failed is None and not succeeded:
        return "Failed", f"successCondition {success!r} does not hold"
    if not succeeded and success:
        return "Inconclusive", f"neither successCondition {success!r} nor failureCondition {failure!r} holds"
    return "Successful", ""


def render(template: str, args: Mapping[str, str]) -> str:
    """`template` with each `{{args.name}}` replaced; raises ValueError for an unknown name."""

    def argument(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in args:
            known = ", ".join(sorted(args)) or "none"
            raise ValueError(f"unknown argument {{{{args.{name}}}}} (known: {known})")
        return args[name]

    return _ARGUMENT.sub(argument, template)


def parse_duration(value: object) -> float:
    """Seconds in a duration such as `30s`, `1m30s`, `500ms` or `2h` (a bare number is seconds)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0 and math.isfinite(value):
        return float(value)
    text = str(value).strip()
    if re.fullmatch(r"\d+(?:\.\d*)?", text):
        return float(text)
    parts = _DURATION.findall(text)
    if not text or "".join(number + unit for number, unit in parts) != text:
        raise ValueError(f"{value!r} is not a duration such as 30s, 1m30s, 500ms or 2h")
    return sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)


def timestamp(moment: datetime.datetime) -> str:
    """RFC 3339 in UTC, to the second, as Kubernetes writes times."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_timestamp(value: str) -> datetime.datetime | None:
    try:
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _setting(metric: Mapping[str, object], key: str) -> object:
    value = metric.get(key)
    return METRIC_DEFAULTS[key] if value is None else value


def _whole(metric: Mapping[str, object], key: str) -> int:
    value = _setting(metric, key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{key} must be a whole number of at least 0, not {value!r}")
    return value


def _last(measurements: Sequence[Measurement], phase: Phase) -> str:
    message = next((m.message for m in reversed(measurements) if m.phase == phase and m.message), "")
    return f"; last: {message}" if message else ""
