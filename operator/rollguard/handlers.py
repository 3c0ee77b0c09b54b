"""Every kopf handler of the operator: a decorator, a guard and one call.

Change handlers react at once; timers re-check every object at the configured
interval (the level-based resync), catching what edge-triggered handlers miss
across restarts. Children (Deployments, Jobs, pods, LoadTests, Services) are not
watched by kopf: the reconciler's watch-fed cache follows them with server-side
label selectors and wakes their owner up.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, cast

import kopf

from rollguard import metrics
from rollguard.builders.spec import GROUP, VERSION
from rollguard.kube import KubeClient, TransientApiError
from rollguard.orchestration import Reconciler
from rollguard.planner import Event
from rollguard.settings import Settings, poll_seconds

RELEASES = (GROUP, VERSION, "apireleases")
LOADTESTS = (GROUP, VERSION, "loadtests")
POLL = poll_seconds()
# Finite budgets for every handler: a pass is a handful of API calls, a retry follows an API hiccup.
TIMEOUT = 120.0
RETRIES = 20
RETRY_DELAY = 1.0
DEFAULT_NAMESPACE = "default"


def _post_event(owner: Mapping[str, Any], event: Event) -> None:
    kopf.event(
        kopf.Body(cast(kopf.RawBody, dict(owner))),
        type=event.type,
        reason=event.reason,
        message=event.message[:1000],
    )


async def _guarded(call: Any) -> None:
    """Turn an API hiccup into a retry a second later instead of a failed handler."""
    try:
        await call
    except TransientApiError as exc:
        metrics.RECONCILE_ERRORS.labels(kind=str(exc.status)).inc()
        raise kopf.TemporaryError(str(exc), delay=RETRY_DELAY) from exc


@kopf.on.startup()
async def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    config = Settings.from_env()
    # Progress and the last handled spec live in annotations: the status belongs to the planner.
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=GROUP, key="last-handled-configuration"
    )
    settings.persistence.finalizer = f"{GROUP}/finalizer"
    # No namespace or CRD scanning: the Role grants neither, and the served resources are fixed.
    settings.scanning.disabled = True
    settings.networking.request_timeout = config.request_timeout
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    elector = memo.get("elector")
    memo.kube = KubeClient(
        config.request_timeout,
        qps=config.qps,
        burst=config.burst,
        may_write=elector.may_write if elector is not None else None,
    )
    memo.reconciler = Reconciler(memo.kube, _post_event)
    metrics.serve(config.metrics_port)


@kopf.on.login()
async def login(memo: kopf.Memo, **kwargs: Any) -> kopf.ConnectionInfo | None:
    info = kopf.login_with_service_account(**kwargs) or kopf.login_with_kubeconfig(**kwargs)
    if info is not None:
        await memo.kube.configure(info)
    return info


@kopf.on.cleanup()
async def close(memo: kopf.Memo, **_: Any) -> None:
    await memo.reconciler.cache.stop()
    await memo.kube.close()


# -- ApiRelease -----------------------------------------------------------------


@kopf.on.resume(*RELEASES, timeout=TIMEOUT, retries=RETRIES)
@kopf.on.create(*RELEASES, timeout=TIMEOUT, retries=RETRIES)
@kopf.on.update(*RELEASES, timeout=TIMEOUT, retries=RETRIES)
async def release_changed(memo: Any, namespace: str | None, name: str, **_: Any) -> None:
    await _guarded(memo.reconciler.release(namespace or DEFAULT_NAMESPACE, name))


@kopf.timer(*RELEASES, interval=POLL, initial_delay=POLL, timeout=TIMEOUT, retries=RETRIES)
async def release_tick(memo: Any, namespace: str | None, name: str, **_: Any) -> None:
    await _guarded(memo.reconciler.release(namespace or DEFAULT_NAMESPACE, name))


# -- LoadTest -------------------------------------------------------------------


@kopf.on.resume(*LOADTESTS, timeout=TIMEOUT, retries=RETRIES)
@kopf.on.create(*LOADTESTS, timeout=TIMEOUT, retries=RETRIES)
@kopf.on.update(*LOADTESTS, timeout=TIMEOUT, retries=RETRIES)
async def loadtest_changed(memo: Any, namespace: str | None, name: str, **_: Any) -> None:
    await _guarded(memo.reconciler.loadtest(namespace or DEFAULT_NAMESPACE, name))


@kopf.timer(*LOADTESTS, interval=POLL, initial_delay=POLL, timeout=TIMEOUT, retries=RETRIES)
async def loadtest_tick(memo: Any, namespace: str | None, name: str, **_: Any) -> None:
    await _guarded(memo.reconciler.loadtest(namespace or DEFAULT_NAMESPACE, name))


logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
