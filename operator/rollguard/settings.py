"""Operator settings from the environment (the CLI flags override them)."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    namespace: str | None
    all_namespaces: bool
    poll_seconds: float
    metrics_port: int
    request_timeout: float

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            namespace=os.environ.get("ROLLGUARD_NAMESPACE") or None,
            all_namespaces=os.environ.get("ROLLGUARD_ALL_NAMESPACES", "").lower() in ("1", "true", "yes"),
            poll_seconds=poll_seconds(),
            metrics_port=int(os.environ.get("ROLLGUARD_METRICS_PORT", "9090")),
            request_timeout=float(os.environ.get("ROLLGUARD_REQUEST_TIMEOUT", "30")),
        )


def poll_seconds() -> float:
    """How often the level-based timers re-check every release and load test."""
    return float(os.environ.get("ROLLGUARD_POLL_SECONDS", "5"))
