"""Watch-fed caches of the objects the operator reads (informers, as client-go calls them).

Each `Informer` lists one kind in one namespace with a server-side label
selector, then follows a watch from the list's resourceVersion (relisting after
410 Gone), and keeps the objects in memory, indexed by the label that names
their owner. A pass reads from here and makes no GET or LIST; the writes of a
pass are put back at once (write-through), so the next pass never plans on a
state older than its own writes.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rollguard.builders.spec import API_VERSION, LOADTEST_LABEL, RELEASE_LABEL, ROLE_LABEL, TRACK_LABEL
from rollguard.kube import ApiError, KubeClient
from rollguard.throttle import backoff_delay

logger = logging.getLogger(__name__)

# A watch is reopened from its last resourceVersion after this long (one request per informer).
WATCH_SECONDS = 300.0

# (owner kind, namespace, owner name): the object whose pass a change wakes up.
Owner = tuple[str, str, str]
Wake = Callable[[Owner], None]


@dataclass(frozen=True)
class Source:
    """One kind, the label selector the API server filters it by, and the label naming its owner."""

    api_version: str
    kind: str
    selector: str = ""
    owner_label: str | None = None
    # Who a change wakes: "self" (the object's own pass) and/or the kinds owning it by label.
    wakes: tuple[str, ...] = ()

    def selects(self, obj: Mapping[str, Any]) -> bool:
        """Whether `obj` matches the selector (`key` and `key=value` terms, the ones used here)."""
        labels = (obj.get("metadata") or {}).get("labels") or {}
        for term in filter(None, self.selector.split(",")):
            key, _, value = term.partition("=")
            if key not in labels or (value and labels[key] != value):
                return False
        return True


RELEASES = Source(API_VERSION, "ApiRelease", wakes=("self",))
LOADTESTS = Source(API_VERSION, "LoadTest", owner_label=RELEASE_LABEL, wakes=("self", "ApiRelease"))
DEPLOYMENTS = Source("apps/v1", "Deployment", RELEASE_LABEL, RELEASE_LABEL, ("ApiRelease",))
RELEASE_PODS = Source("v1", "Pod", RELEASE_LABEL, RELEASE_LABEL, ("ApiRelease",))
RELEASE_JOBS = Source("batch/v1", "Job", RELEASE_LABEL, RELEASE_LABEL, ("ApiRelease",))
MASTER_PODS = Source("v1", "Pod", f"{LOADTEST_LABEL},{ROLE_LABEL}=master", LOADTEST_LABEL, ("LoadTest",))
LOADTEST_JOBS = Source("batch/v1", "Job", LOADTEST_LABEL, LOADTEST_LABEL, ("LoadTest",))
LOADTEST_SERVICES = Source("v1", "Service", LOADTEST_LABEL, LOADTEST_LABEL, ("LoadTest",))
# The canary Services a release owns (they carry the track label; the release's own Service does not).
RELEASE_SERVICES = Source("v1", "Service", f"{RELEASE_LABEL},{TRACK_LABEL}", RELEASE_LABEL, ("ApiRelease",))
SOURCES = (
    RELEASES,
    LOADTESTS,
    DEPLOYMENTS,
    RELEASE_PODS,
    RELEASE_JOBS,
    MASTER_PODS,
    LOADTEST_JOBS,
    LOADTEST_SERVICES,
    RELEASE_SERVICES,
)


def _version(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")


def _older(candidate: Mapping[str, Any], held: Mapping[str, Any]) -> bool:
    """Whether `candidate` is an older state than `held` (resourceVersions compared when numeric)."""
    new, old = _version(candidate), _version(held)
    return new.isdigit() and old.isdigit() and int(new) < int(old)


def _intent(obj: Mapping[str, Any]) -> tuple[Any, ...]:
    """What a change of an object's own pass cares about: everything but its status."""
    meta = obj.get("metadata") or {}
    return (
        meta.get("generation"),
        meta.get("annotations"),
        meta.get("labels"),
        meta.get("deletionTimestamp"),
        obj.get("spec"),
    )


class Informer:
    """One kind in one namespace, listed then watched, held in memory by name and by owner."""

    def __init__(self, kube: KubeClient, source: Source, namespace: str, wake: Wake) -> None:
        self.kube = kube
        self.source = source
        self.namespace = namespace
        self._wake = wake
        self.objects: dict[str, dict[str, Any]] = {}
        self._owned: collections.defaultdict[str, set[str]] = collections.defaultdict(set)
        self.synced = asyncio.Event()
        self._version = ""

    def get(self, name: str) -> dict[str, Any] | None:
        return self.objects.get(name)

    def owned_by(self, owner: str) -> list[dict[str, Any]]:
        return [self.objects[name] for name in sorted(self._owned.get(owner, ()))]

    def _owner(self, obj: Mapping[str, Any]) -> str | None:
        if self.source.owner_label is None:
            return None
        return ((obj.get("metadata") or {}).get("labels") or {}).get(self.source.owner_label)

    def put(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        """Store `obj` unless an newer state is held; returns the state it replaced."""
        name = obj["metadata"]["name"]
        held = self.objects.get(name)
        if held is not None and _older(obj, held):
            return held
        if held is not None and (owner := self._owner(held)):
            self._owned[owner].discard(name)
        if not self.source.selects(obj):
            self.objects.pop(name, None)
            return held
        self.objects[name] = obj
        if owner := self._owner(obj):
            self._owned[owner].add(name)
        return held

    def drop(self, name: str) -> dict[str, Any] | None:
        held = self.objects.pop(name, None)
        if held is not None and (owner := self._owner(held)):
            self._owned[owner].discard(name)
        return held

    def _changed(self, obj: Mapping[str, Any], held: Mapping[str, Any] | None) -> None:
        meta = obj.get("metadata") or {}
        for kind in self.source.wakes:
            if kind == "self":
                if held is None or _intent(held) != _intent(obj):
                    self._wake((self.source.kind, self.namespace, meta["name"]))
            elif owner := (meta.get("labels") or {}).get(
                RELEASE_LABEL if kind == "ApiRelease" else LOADTEST_LABEL
            ):
                self._wake((kind, self.namespace, owner))

    def _relisted(self, items: list[dict[str, Any]]) -> None:
        fresh = {item["metadata"]["name"]: item for item in items}
        for name in list(self.objects):
            if name not in fresh:
                gone = self.drop(name)
                if gone is not None:
                    self._changed(gone, None)
        for item in items:
            held = self.put(item)
            if held is None or _version(held) != _version(item):
                self._changed(item, held)

    def _event(self, event: Mapping[str, Any]) -> bool:
        """Apply one watch event; False when the watch must start over from a new list."""
        kind, obj = event.get("type"), event.get("object") or {}
        if kind == "ERROR":
            return False
        self._version = _version(obj) or self._version
        if kind == "BOOKMARK":
            return True
        held = self.drop(obj["metadata"]["name"]) if kind == "DELETED" else self.put(dict(obj))
        self._changed(obj, held)
        return True

    async def run(self) -> None:
        failures = 0
        source = self.source
        while True:
            try:
                if not self._version:
                    items, self._version = await self.kube.list_versioned(
                        source.api_version, source.kind, self.namespace, source.selector
                    )
                    self._relisted(items)
                    self.synced.set()
                async for event in self.kube.watch(
                    source.api_version,
                    source.kind,
                    self.namespace,
                    selector=source.selector,
                    resource_version=self._version,
                    timeout_seconds=WATCH_SECONDS,
                ):
                    if not self._event(event):
                        self._version = ""
                        break
                failures = 0
            except ApiError as exc:
                if exc.status == 410:
                    self._version = ""
                logger.warning("watch of %s in %s: %s", source.kind, self.namespace, exc)
                await asyncio.sleep(backoff_delay(failures))
                failures += 1


class Cache:
    """The informers of every served namespace, started on the first pass that needs them."""

    def __init__(self, kube: KubeClient, wake: Wake) -> None:
        self.kube = kube
        self._wake = wake
        self._scopes: dict[str, dict[Source, Informer]] = {}
        self._tasks: list[asyncio.Task[None]] = []

    async def ready(self, namespace: str) -> dict[Source, Informer]:
        """The namespace's informers, once each has listed its objects."""
        scope = self._scopes.get(namespace)
        if scope is None:
            scope = self._scopes[namespace] = {
                source: Informer(self.kube, source, namespace, self._wake) for source in SOURCES
            }
            self._tasks += [asyncio.create_task(informer.run()) for informer in scope.values()]
        for informer in scope.values():
            await informer.synced.wait()
        return scope

    def observe(self, kind: str, obj: dict[str, Any]) -> None:
        """A write's answer, put into every informer of its kind that selects it."""
        namespace = (obj.get("metadata") or {}).get("namespace")
        for source, informer in self._scopes.get(namespace or "", {}).items():
            if source.kind == kind and source.selects(obj):
                informer.put(obj)

    def forget(self, kind: str, namespace: str, name: str) -> None:
        for source, informer in self._scopes.get(namespace, {}).items():
            if source.kind == kind:
                informer.drop(name)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        self._scopes.clear()
