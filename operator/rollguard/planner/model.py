"""What the planners read and what they return: plain data, no I/O."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from rollguard.analysis.model import Measurement

Verb = Literal["create", "patch", "delete"]


@dataclass(frozen=True)
class Action:
    """One write to the API. `create` is get-or-create: an existing object of that name is kept."""

    verb: Verb
    api_version: str
    kind: str
    namespace: str
    name: str
    body: Any = None


@dataclass(frozen=True)
class Event:
    type: Literal["Normal", "Warning"]
    reason: str
    message: str


@dataclass(frozen=True)
class ProbeResult:
    """The outcome of one HTTP request to the Service's readiness endpoint."""

    ok: bool
    message: str


@dataclass(frozen=True)
class ProbeTarget:
    """Where the recovery check sends its request; the runtime maps the Service to a URL."""

    service: str
    namespace: str
    port: int
    path: str
    timeout_seconds: float


@dataclass(frozen=True)
class ReleaseSnapshot:
    """The observed world of one ApiRelease at one moment."""

    release: Mapping[str, Any]
    deployment: Mapping[str, Any] | None
    pods: Sequence[Mapping[str, Any]]
    jobs: Mapping[str, Mapping[str, Any]]
    loadtest: Mapping[str, Any] | None
    now: datetime.datetime
    probe: ProbeResult | None = None
    # The canary Deployment, the release's canary Services and every LoadTest it owns, by name.
    canary: Mapping[str, Any] | None = None
    services: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    loadtests: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # Measurements the runtime took this pass for the current analysis step, by metric name.
    measurements: Mapping[str, Measurement] = field(default_factory=dict)


@dataclass(frozen=True)
class LoadTestSnapshot:
    """The observed world of one LoadTest: its Jobs, Service, master pods and locustfile ConfigMap."""

    loadtest: Mapping[str, Any]
    jobs: Mapping[str, Mapping[str, Any]]
    services: Mapping[str, Mapping[str, Any]]
    master_pods: Sequence[Mapping[str, Any]]
    locustfile_present: bool
    now: datetime.datetime


@dataclass
class Plan:
    """The writes of one pass, the status patch to send once, and the events to record."""

    actions: list[Action] = field(default_factory=list)
    status: dict[str, Any] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    requeue_after: float | None = None
    # Phase changes as (phase left, seconds spent in it): the runtime turns them into metrics.
    phase_exits: list[tuple[str, float]] = field(default_factory=list)
    outcome: str | None = None
