"""Service endpoints: which pods a Service routes to, and in what order."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

PortMode = Literal["http", "tcp"]


def selector_matches(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    """A Service selector matches a pod carrying every one of its labels; an empty one matches nothing."""
    return bool(selector) and all(labels.get(key) == value for key, value in selector.items())


def port_mode(port: Mapping[str, Any]) -> PortMode:
    """How the proxy forwards a Service port: per HTTP request, or raw TCP per connection.

    `appProtocol` decides when set (`http` is HTTP, anything else, `tcp` or
    `https` say, is forwarded as bytes); without it a port named `tcp` or
    `tcp-<suffix>` is TCP and every other port HTTP.
    """
    app_protocol = str(port.get("appProtocol") or "").lower()
    if app_protocol:
        return "http" if app_protocol == "http" else "tcp"
    name = str(port.get("name") or "").lower()
    return "tcp" if name == "tcp" or name.startswith("tcp-") else "http"


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


EndpointSource = Callable[[], list[PodEndpoints]]


@dataclass
class ServicePort:
    """One Service port as a local proxy serves it: the listener and the pods behind it."""

    namespace: str
    service: str
    port: int
    local_port: int
    selector: Mapping[str, str]
    target_port: int | str
    source: EndpointSource
    balancer: RoundRobin = field(default_factory=RoundRobin)

    def attempts(self) -> Iterator[Endpoint]:
        """The Ready endpoints in balanced order, each pod at most once: the next one is where a
        connection goes when the one before refused it."""
        tried: set[str] = set()
        while True:
            endpoints = [
                e
                for e in ready_endpoints(self.selector, self.target_port, self.source())
                if e.pod not in tried
            ]
            endpoint = self.balancer.pick(endpoints)
            if endpoint is None:
                return
            tried.add(endpoint.pod)
            yield endpoint
