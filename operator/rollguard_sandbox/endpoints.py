"""Service endpoints: which pods a Service routes to, and in what order."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field


def selector_matches(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    """A Service selector matches a pod carrying every one of its labels; an empty one matches nothing."""
    return bool(selector) and all(labels.get(key) == value for key, value in selector.items())


@dataclass(frozen=True)
class PodEndpoints:
    """A pod as the Service proxy sees it: its labels, readiness and local ports."""

    name: str
    labels: Mapping[str, str]
    ready: bool
    terminating: bool
    ports: Mapping[str, int]  # container port name and number (as text) -> local port


@dataclass(frozen=True)
class Endpoint:
    pod: str
    host: str
    port: int


def ready_endpoints(
    selector: Mapping[str, str], target_port: int | str, pods: Iterable[PodEndpoints], host: str = "127.0.0.1"
) -> list[Endpoint]:
    """Endpoints of the Ready, not terminating pods the selector picks, sorted by pod name.

    A terminating pod leaves the endpoints before it gets SIGTERM, so the
    connections it still holds drain while no new ones arrive.
    """
    found = []
    for pod in pods:
        if not pod.ready or pod.terminating or not selector_matches(selector, pod.labels):
            continue
        local = pod.ports.get(str(target_port))
        if local is not None:
            found.append(Endpoint(pod=pod.name, host=host, port=local))
    return sorted(found, key=lambda endpoint: endpoint.pod)


@dataclass
class RoundRobin:
    """Spreads connections over the current endpoints, whatever their number is now."""

    _counter: itertools.count[int] = field(default_factory=itertools.count)

    def pick(self, endpoints: Sequence[Endpoint]) -> Endpoint | None:
        if not endpoints:
            return None
        return endpoints[next(self._counter) % len(endpoints)]
