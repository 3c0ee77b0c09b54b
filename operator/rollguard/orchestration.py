"""One pass for one object: observe the world, ask the planner, write, record.

Handlers call `Reconciler.release` and `Reconciler.loadtest`; so does the
watch-fed cache when an object or one of its children changes. Passes for the
same object never overlap: a trigger that arrives during a pass makes that
pass run once more instead of starting a second one. A pass reads only the
cache, so a pass with nothing to write makes no API call.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from rollguard import metrics, probe
from rollguard.analysis.providers import measure
from rollguard.builders.canary import canary_name
from rollguard.builders.loadtest import verification_name
from rollguard.builders.spec import API_VERSION, release_spec, revision_of
from rollguard.informers import (
    DEPLOYMENTS,
    LOADTEST_JOBS,
    LOADTEST_SERVICES,
    LOADTESTS,
    MASTER_PODS,
    RELEASE_JOBS,
    RELEASE_PODS,
    RELEASE_SERVICES,
    RELEASES,
    Cache,
    Owner,
)
from rollguard.kube import ApiError, KubeClient
from rollguard.planner import (
    Action,
    Event,
    LoadTestSnapshot,
    Plan,
    ReleaseSnapshot,
    plan_loadtest,
    plan_loadtest_rejection,
    plan_rejection,
    plan_release,
    wants_probe,
)
from rollguard.planner.canary_analysis import analysis_args, due_measurements
from rollguard.planner.history import loadtests_to_prune
from rollguard.planner.loadtest import FINISHED

logger = logging.getLogger(__name__)

PostEvent = Callable[[Mapping[str, Any], Event], None]
Key = tuple[str, str, str]


@dataclasses.dataclass
class _Gate:
    lock: asyncio.Lock = dataclasses.field(default_factory=asyncio.Lock)
    dirty: bool = False


def _now() -> datetime.datetime:
    return datetime.datetime.now(tz=datetime.UTC)


async def _measure(snapshot: ReleaseSnapshot, due: list[Mapping[str, Any]]) -> dict[str, Any]:
    """One measurement of each due `prometheus` or `web` metric, taken at once."""
    args = analysis_args(snapshot.release)
    taken = await asyncio.gather(*(measure(metric, args, _now) for metric in due))
    return {metric["name"]: measurement for metric, measurement in zip(due, taken, strict=True)}


class Refused(Exception):
    """A write the API refused for good, with the action it was about."""

    def __init__(self, action: Action | None, error: ApiError) -> None:
        super().__init__(str(error))
        self.action = action
        self.error = error

    def describe(self) -> str:
        what = (
            f"to {self.action.verb} {self.action.kind} {self.action.name}"
            if self.action
            else f"the request {self.error.request}"
        )
        return f"{what}: HTTP {self.error.status}: {self.error.message}"


class Reconciler:
    def __init__(self, kube: KubeClient, post_event: PostEvent) -> None:
        self.kube = kube
        self.post_event = post_event
        self._gates: dict[Key, _Gate] = {}
        self._wakeups: dict[Key, asyncio.TimerHandle] = {}
        self.cache = Cache(kube, self.wake)
        self._woken: set[asyncio.Task[Any]] = set()

    def wake(self, owner: Owner) -> None:
        """A change seen by the cache: run the owner's pass (coalesced with one in progress)."""
        kind, namespace, name = owner
        run = self.release if kind == "ApiRelease" else self.loadtest
        task = asyncio.ensure_future(self._quietly(lambda: run(namespace, name)))
        self._woken.add(task)
        task.add_done_callback(self._woken.discard)

    async def _coalesced(self, key: Key, run: Callable[[], Awaitable[Plan | None]]) -> Plan | None:
        gate = self._gates.setdefault(key, _Gate())
        gate.dirty = True
        if gate.lock.locked():
            return None
        async with gate.lock:
            plan = None
            while gate.dirty:
                gate.dirty = False
                plan = await run()
            return plan

    def _wake_later(self, key: Key, after: float | None, run: Callable[[], Awaitable[Any]]) -> None:
        """Schedule the next pass when the plan knows when to look again (timers remain the safety net)."""
        if previous := self._wakeups.pop(key, None):
            previous.cancel()
        if after is None:
            return
        loop = asyncio.get_running_loop()
        self._wakeups[key] = loop.call_later(after, lambda: asyncio.ensure_future(self._quietly(run)))

    async def _quietly(self, run: Callable[[], Awaitable[Any]]) -> None:
        try:
            await run()
        except Exception as exc:  # the timer retries; a scheduled wake-up must not crash the loop
            logger.warning("scheduled pass failed: %s", exc)

    def forget(self, kind: str, namespace: str, name: str) -> None:
        key = (kind, namespace, name)
        self._gates.pop(key, None)
        if handle := self._wakeups.pop(key, None):
            handle.cancel()

    # -- ApiRelease --------------------------------------------------------

    async def release(self, namespace: str, name: str) -> Plan | None:
        key = ("ApiRelease", namespace, name)

        async def run() -> Plan | None:
            plan = await self._release_pass(namespace, name)
            self._wake_later(key, plan.requeue_after if plan else None, lambda: self.release(namespace, name))
            return plan

        return await self._coalesced(key, run)

    async def observe_release(self, release: Mapping[str, Any]) -> ReleaseSnapshot:
        namespace, name = release["metadata"]["namespace"], release["metadata"]["name"]
        spec = release.get("spec") or {}
        scope = await self.cache.ready(namespace)
        loadtest = None
        if (spec.get("loadTest") or {}).get("enabled") and spec.get("template"):
            test_name = verification_name(name, revision_of(spec["template"]))
            loadtest = scope[LOADTESTS].get(test_name)
        return ReleaseSnapshot(
            release=release,
            deployment=scope[DEPLOYMENTS].get(name),
            pods=scope[RELEASE_PODS].owned_by(name),
            jobs={job["metadata"]["name"]: job for job in scope[RELEASE_JOBS].owned_by(name)},
            loadtest=loadtest,
            now=_now(),
            canary=scope[DEPLOYMENTS].get(canary_name(name)),
            services={svc["metadata"]["name"]: svc for svc in scope[RELEASE_SERVICES].owned_by(name)},
            loadtests={test["metadata"]["name"]: test for test in scope[LOADTESTS].owned_by(name)},
        )

    async def _release_pass(self, namespace: str, name: str) -> Plan | None:
        release = (await self.cache.ready(namespace))[RELEASES].get(name)
        if release is None or release["metadata"].get("deletionTimestamp"):
            self.forget("ApiRelease", namespace, name)
            return None
        snapshot = await self.observe_release(release)
        if target := wants_probe(snapshot):
            result = await probe.check(probe.service_url(target), target.timeout_seconds)
            snapshot = dataclasses.replace(snapshot, probe=result, now=_now())
        if due := due_measurements(snapshot):
            snapshot = dataclasses.replace(snapshot, measurements=await _measure(snapshot, due), now=_now())
        plan = plan_release(snapshot)
        plan.actions += await self._pruned(release, snapshot)
        try:
            await self._apply(plan)
        except Refused as refused:
            logger.warning("ApiRelease %s/%s: %s", namespace, name, refused.describe())
            plan = plan_rejection(snapshot, plan, refused.describe())
        await self._record(release, "ApiRelease", plan)
        metrics.record_release(plan)
        return plan

    # -- LoadTest ----------------------------------------------------------

    async def loadtest(self, namespace: str, name: str) -> Plan | None:
        key = ("LoadTest", namespace, name)

        async def run() -> Plan | None:
            plan = await self._loadtest_pass(namespace, name)
            self._wake_later(
                key, plan.requeue_after if plan else None, lambda: self.loadtest(namespace, name)
            )
            return plan

        return await self._coalesced(key, run)

    async def _pruned(self, release: Mapping[str, Any], snapshot: ReleaseSnapshot) -> list[Action]:
        """Deletes of the release's LoadTests beyond `spec.loadTest.historyLimit`."""
        meta = release["metadata"]
        tests = (await self.cache.ready(meta["namespace"]))[LOADTESTS].owned_by(meta["name"])
        if not tests:
            return []
        keep = int(release_spec(release.get("spec") or {})["loadTest"]["historyLimit"])
        current = snapshot.loadtest["metadata"]["name"] if snapshot.loadtest else None
        return loadtests_to_prune(tests, keep=keep, current=current)

    async def observe_loadtest(self, loadtest: Mapping[str, Any]) -> LoadTestSnapshot:
        namespace, name = loadtest["metadata"]["namespace"], loadtest["metadata"]["name"]
        scope = await self.cache.ready(namespace)
        jobs = scope[LOADTEST_JOBS].owned_by(name)
        services = scope[LOADTEST_SERVICES].owned_by(name)
        pods = scope[MASTER_PODS].owned_by(name)
        present = True
        if locustfile := (loadtest.get("spec") or {}).get("locustfile"):
            present = (
                await self.kube.get("v1", "ConfigMap", namespace, locustfile["configMapName"]) is not None
            )
        return LoadTestSnapshot(
            loadtest=loadtest,
            jobs={job["metadata"]["name"]: job for job in jobs},
            services={service["metadata"]["name"]: service for service in services},
            master_pods=pods,
            locustfile_present=present,
            now=_now(),
        )

    async def _loadtest_pass(self, namespace: str, name: str) -> Plan | None:
        loadtest = (await self.cache.ready(namespace))[LOADTESTS].get(name)
        if loadtest is None or loadtest["metadata"].get("deletionTimestamp"):
            self.forget("LoadTest", namespace, name)
            return None
        status = loadtest.get("status") or {}
        if status.get("phase") in FINISHED and status.get("observedGeneration") == loadtest["metadata"].get(
            "generation"
        ):
            return None  # a finished run is a record: nothing to observe, nothing to write
        try:
            snapshot = await self.observe_loadtest(loadtest)
            plan = plan_loadtest(snapshot)
            await self._apply(plan)
        except (ApiError, Refused) as exc:
            refused = exc if isinstance(exc, Refused) else Refused(None, exc)
            if not refused.error.permanent:
                raise
            logger.warning("LoadTest %s/%s: %s", namespace, name, refused.describe())
            plan = plan_loadtest_rejection(
                LoadTestSnapshot(loadtest, {}, {}, [], True, _now()), refused.describe()
            )
        await self._record(loadtest, "LoadTest", plan)
        metrics.record_loadtest(plan)
        return plan

    # -- writing -----------------------------------------------------------

    async def _apply(self, plan: Plan) -> None:
        """Apply the plan's writes in order; a permanent refusal stops them and raises `Refused`."""
        for action in plan.actions:
            try:
                await self._act(action)
            except ApiError as exc:
                if exc.permanent:
                    raise Refused(action, exc) from exc
                raise

    async def _act(self, action: Action) -> None:
        """One write; its answer goes into the cache, so the next pass sees its own writes."""
        if action.verb == "create":
            obj, created = await self.kube.create(action.body)
            logger.info(
                "%s %s/%s %s", "created" if created else "found", action.kind, action.name, action.namespace
            )
            self.cache.observe(action.kind, obj)
        elif action.verb == "patch":
            obj = await self.kube.patch(
                action.api_version, action.kind, action.namespace, action.name, action.body
            )
            self.cache.observe(action.kind, obj)
        else:
            policy = (action.body or {}).get("propagationPolicy", "Background")
            await self.kube.delete(action.api_version, action.kind, action.namespace, action.name, policy)
            self.cache.forget(action.kind, action.namespace, action.name)

    async def _record(self, owner: Mapping[str, Any], kind: str, plan: Plan) -> None:
        """The plan's status in one patch, then its events."""
        meta = owner["metadata"]
        if plan.status:
            written = await self.kube.patch(
                API_VERSION,
                kind,
                meta["namespace"],
                meta["name"],
                {"status": plan.status},
                subresource="status",
            )
            self.cache.observe(kind, written)
        for event in plan.events:
            self.post_event(owner, event)
