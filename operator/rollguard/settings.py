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
    # The client's rate limit towards the API server (client-go's flowcontrol).
    qps: float
    burst: int

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            namespace=os.environ.get("ROLLGUARD_NAMESPACE") or None,
            all_namespaces=os.environ.get("ROLLGUARD_ALL_NAMESPACES", "").lower() in ("1", "true", "yes"),
            poll_seconds=poll_seconds(),
            metrics_port=int(os.environ.get("ROLLGUARD_METRICS_PORT", "9090")),
            request_timeout=float(os.environ.get("ROLLGUARD_REQUEST_TIMEOUT", "30")),
            qps=float(os.environ.get("ROLLGUARD_KUBE_API_QPS", str(DEFAULT_QPS))),
            burst=int(os.environ.get("ROLLGUARD_KUBE_API_BURST", str(DEFAULT_BURST))),
        )


DEFAULT_QPS = 50.0
DEFAULT_BURST = 100


def poll_seconds() -> float:
    """The level-based resync: how often every release and load test is re-checked from the
    watch-fed cache (a pass that finds nothing to do makes no API call). In-flight releases are
    also woken by every change of their children, and at their own deadlines."""
    return float(os.environ.get("ROLLGUARD_POLL_SECONDS", "5"))
