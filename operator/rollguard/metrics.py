"""Prometheus metrics of releases, rollbacks, load tests and phase durations."""

from __future__ import annotations

from prometheus_client import Counter, Histogram, start_http_server

from rollguard.planner import Plan

RELEASES = Counter("rollguard_releases_total", "Releases that reached a final phase", ["outcome"])
ROLLBACKS = Counter("rollguard_rollbacks_total", "Automatic rollbacks started", ["reason"])
LOADTESTS = Counter("rollguard_loadtests_total", "LoadTests that finished", ["phase"])
PHASE_SECONDS = Histogram(
    "rollguard_phase_duration_seconds",
    "Time a release spent in a phase",
    ["phase"],
    buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800),
)
RECONCILE_ERRORS = Counter("rollguard_reconcile_errors_total", "Passes that failed on an API error", ["kind"])


def record_release(plan: Plan) -> None:
    for phase, seconds in plan.phase_exits:
        PHASE_SECONDS.labels(phase=phase).observe(seconds)
    if any(event.reason == "RollingBack" for event in plan.events):
        rollback = plan.status.get("rollback") or {}
        ROLLBACKS.labels(reason=rollback.get("reason", "Unknown")).inc()
    if plan.outcome:
        RELEASES.labels(outcome=plan.outcome).inc()


def record_loadtest(plan: Plan) -> None:
    if plan.outcome:
        LOADTESTS.labels(phase=plan.outcome).inc()


def serve(port: int) -> None:
    """Expose /metrics on `port` (0 turns the endpoint off)."""
    if port:
        start_http_server(port)
