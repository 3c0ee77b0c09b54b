"""The Locust master's JSON summary, read from its pod's termination message."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

_STATS = ("requests", "failures", "p50Ms", "p95Ms", "p99Ms", "rps", "errorRatePercent")


@dataclass(frozen=True)
class Summary:
    verdict: str
    reasons: list[str]
    stats: dict[str, Any]
    worst: list[dict[str, Any]] = field(default_factory=list)


def parse_summary(text: str) -> Summary:
    """Parse the threshold gate's summary; ValueError says what is wrong with it."""
    try:
        data = json.loads(text.strip().splitlines()[-1] if text.strip() else "")
    except (json.JSONDecodeError, IndexError) as exc:
        raise ValueError(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    verdict = data.get("verdict")
    if verdict not in ("passed", "failed"):
        raise ValueError(f"verdict is {verdict!r}, expected 'passed' or 'failed'")
    stats = {key: data[key] for key in _STATS if isinstance(data.get(key), int | float)}
    worst = [
        {k: item[k] for k in ("name", "p95Ms", "failures") if k in item}
        for item in data.get("worst") or []
        if isinstance(item, dict)
    ][:5]
    reasons = [str(reason) for reason in data.get("reasons") or []]
    return Summary(verdict=verdict, reasons=reasons, stats=stats, worst=worst)
