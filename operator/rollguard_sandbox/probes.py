"""Container probes as Kubernetes defines them: when to probe, and what the results mean.

A probe's verdict flips only after `successThreshold` consecutive successes or
`failureThreshold` consecutive failures, which is why a tracker keeps counters
rather than the last result alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

ProbeKind = Literal["startup", "readiness", "liveness"]


@dataclass(frozen=True)
class Probe:
    """One probe of a container, with Kubernetes' defaults filled in."""

    action: Literal["http", "tcp", "exec"]
    port: int | str = 0
    path: str = "/"
    command: tuple[str, ...] = ()
    initial_delay: float = 0.0
    period: float = 10.0
    timeout: float = 1.0
    success_threshold: int = 1
    failure_threshold: int = 3


def parse_probe(spec: Mapping[str, Any] | None) -> Probe | None:
    """The probe described by a container's `readinessProbe`/`livenessProbe`/`startupProbe`."""
    if not spec:
        return None
    if http := spec.get("httpGet"):
        probe = Probe(action="http", port=http.get("port", 80), path=http.get("path", "/"))
    elif tcp := spec.get("tcpSocket"):
        probe = Probe(action="tcp", port=tcp.get("port", 80))
    elif exec_ := spec.get("exec"):
        probe = Probe(action="exec", command=tuple(exec_.get("command", ())))
    else:
        raise ValueError(f"unsupported probe (needs httpGet, tcpSocket or exec): {dict(spec)!r}")
    return replace(
        probe,
        initial_delay=float(spec.get("initialDelaySeconds", 0)),
        period=float(spec.get("periodSeconds", 10)),
        timeout=float(spec.get("timeoutSeconds", 1)),
        success_threshold=int(spec.get("successThreshold", 1)),
        failure_threshold=int(spec.get("failureThreshold", 3)),
    )


@dataclass
class ProbeTracker:
    """The running verdict of one probe of one container start.

    Readiness starts as failed (a pod is not Ready until proven); startup and
    liveness start as passed, so that only repeated failures restart a container.
    """

    probe: Probe
    kind: ProbeKind
    started_at: float
    passed: bool = field(init=False)
    completed: bool = field(default=False, init=False)
    successes: int = field(default=0, init=False)
    failures: int = field(default=0, init=False)
    next_at: float = field(init=False)

    def __post_init__(self) -> None:
        self.passed = self.kind != "readiness"
        self.next_at = self.started_at + self.probe.initial_delay

    def due(self, now: float) -> bool:
        return now >= self.next_at

    def record(self, ok: bool, now: float) -> bool:
        """Count one result; return True when the verdict changed."""
        self.next_at = now + self.probe.period
        before = self.passed
        if ok:
            self.successes += 1
            self.failures = 0
            if self.successes >= self.probe.success_threshold:
                self.passed = True
                self.completed = self.kind == "startup" or self.completed
        else:
            self.failures += 1
            self.successes = 0
            if self.failures >= self.probe.failure_threshold:
                self.passed = False
        return before != self.passed

    @property
    def failed_for_good(self) -> bool:
        """Liveness and startup failures restart the container; readiness failures never do."""
        return self.kind != "readiness" and self.failures >= self.probe.failure_threshold
