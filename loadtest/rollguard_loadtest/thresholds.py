"""The limits a load test must stay within, read from the environment the operator sets."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

P95_ENV = "ROLLGUARD_P95_MS"
ERROR_RATE_ENV = "ROLLGUARD_ERROR_RATE_PERCENT"


@dataclass(frozen=True)
class Thresholds:
    """A run passes when its p95 and its error rate are both at or below these limits."""

    p95_ms: float = 500
    error_rate_percent: float = 5

    def __post_init__(self) -> None:
        if self.p95_ms <= 0:
            raise ValueError(f"Thresholds.p95_ms must be positive, got {self.p95_ms}")
        if not 0 <= self.error_rate_percent <= 100:
            raise ValueError(
                f"Thresholds.error_rate_percent must be between 0 and 100, got {self.error_rate_percent}"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Thresholds:
        """From ROLLGUARD_P95_MS and ROLLGUARD_ERROR_RATE_PERCENT; unset or blank keeps the default."""
        defaults = cls()
        return cls(
            p95_ms=_number(environ, P95_ENV, defaults.p95_ms),
            error_rate_percent=_number(environ, ERROR_RATE_ENV, defaults.error_rate_percent),
        )

    def as_json(self) -> dict[str, float | int]:
        return {"p95Ms": _compact(self.p95_ms), "errorRatePercent": _compact(self.error_rate_percent)}


def _number(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None


def _compact(value: float) -> float | int:
    """500.0 is written as 500, so the summary reads like the spec it came from."""
    return int(value) if float(value).is_integer() else value
