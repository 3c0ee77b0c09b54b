"""Leader election: of several replicas, the one holding the Lease runs the operator.

`LeaderElector.acquire()` waits (as a standby, answering its liveness probe)
until the Lease is ours; `keep()` renews it every retry period and calls
`on_lost` once no renewal succeeded within the renew deadline. `may_write` is
the fence every write of the operator's client checks, so a leader that can no
longer renew stops writing at the renew deadline, before its lease expires.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import random
import time
import urllib.parse
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from rollguard.kube import ApiError, KubeClient
from rollguard.lease import Timing, lease_spec, may_take, record_of, released_spec

logger = logging.getLogger(__name__)
API_VERSION = "coordination.k8s.io/v1"


class LeaderElector:
    def __init__(
        self,
        kube: KubeClient,
        *,
        namespace: str,
        name: str,
        identity: str,
        timing: Timing,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.kube = kube
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self.timing = timing
        self._clock = clock
        self._observed: tuple[str, str, str] | None = None
        self._observed_at = 0.0
        self._renewed_at: float | None = None

    def may_write(self) -> bool:
        """The fence: true only while the last renewal is younger than the renew deadline."""
        renewed = self._renewed_at
        return renewed is not None and self._clock() - renewed < self.timing.renew_deadline

    async def _try(self) -> bool:
        """One attempt to take or renew the Lease."""
        started = self._clock()
        lease = await self.kube.get(API_VERSION, "Lease", self.namespace, self.name)
        record = record_of(lease)
        if record != self._observed:
            self._observed, self._observed_at = record, started
        duration = self.timing.lease_duration
        if not may_take(
            lease, self.identity, observed_at=self._observed_at, now=started, lease_duration=duration
        ):
            return False
        now = datetime.datetime.now(tz=datetime.UTC)
        spec = lease_spec(lease, self.identity, now=now, lease_duration=duration)
        if lease is None:
            body = {
                "apiVersion": API_VERSION,
                "kind": "Lease",
                "metadata": {"name": self.name, "namespace": self.namespace},
                "spec": spec,
            }
            _, created = await self.kube.create(body)
            if not created:
                return False
        else:
            # The resourceVersion makes the write conditional: of two candidates, one gets a 409.
            version = lease["metadata"].get("resourceVersion")
            await self.kube.patch(
                API_VERSION,
                "Lease",
                self.namespace,
                self.name,
                {"metadata": {"resourceVersion": version}, "spec": spec},
            )
        self._renewed_at = started
        return True

    async def _attempt(self, limit: float) -> bool:
        try:
            # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a cancellation.
            async with asyncio.timeout(max(0.05, limit)):
                return await self._try()
        except (ApiError, TimeoutError) as exc:
            logger.debug("lease %s/%s: %s", self.namespace, self.name, exc)
            return False

    def _pause(self) -> float:
        return self.timing.retry_period * (1 + random.random() * JITTER_SHARE)  # noqa: S311 - jitter

    async def acquire(self) -> None:
        logger.info("waiting to lead through Lease %s/%s as %s", self.namespace, self.name, self.identity)
        while True:
            if await self._attempt(self.timing.renew_deadline):
                break
            await asyncio.sleep(self._pause())
        logger.info("became the leader (Lease %s/%s)", self.namespace, self.name)

    async def keep(self, on_lost: Callable[[], Any]) -> None:
        """Renew every retry period until no renewal succeeded within the renew deadline."""
        while True:
            await asyncio.sleep(self.timing.retry_period)
            while True:
                renewed = self._renewed_at or 0.0
                left = self.timing.renew_deadline - (self._clock() - renewed)
                if left <= 0:
                    logger.error("leader election lost: the Lease was not renewed within the renew deadline")
                    on_lost()
                    return
                if await self._attempt(left):
                    break
                await asyncio.sleep(min(self.timing.retry_period / 4, max(0.0, left)))

    async def release(self) -> None:
        """Give the Lease up on a clean shutdown, so a standby need not wait for it to expire."""
        self._renewed_at = None
        try:
            lease = await self.kube.get(API_VERSION, "Lease", self.namespace, self.name)
            if lease is not None and (spec := released_spec(lease, self.identity)) is not None:
                version = lease["metadata"].get("resourceVersion")
                body = {"metadata": {"resourceVersion": version}, "spec": spec}
                await self.kube.patch(API_VERSION, "Lease", self.namespace, self.name, body)
        except ApiError as exc:
            logger.warning("could not release Lease %s/%s: %s", self.namespace, self.name, exc)


# A standby waits a retry period plus up to this share of it between attempts.
JITTER_SHARE = 0.2
# How long the standby's liveness server waits for open requests once the Lease is won.
STANDBY_SHUTDOWN_SECONDS = 0.5


@asynccontextmanager
async def standby_liveness(endpoint: str | None) -> AsyncIterator[None]:
    """Answer the liveness probe while waiting for the Lease (kopf serves it once leading)."""
    if not endpoint:
        yield
        return
    url = urllib.parse.urlsplit(endpoint)

    async def alive(_: web.Request) -> web.Response:
        return web.json_response({"standby": True})

    app = web.Application()
    app.router.add_get(url.path or "/", alive)
    # Its answers take no time: a client holding a request open must not hold up the leader's
    # start for aiohttp's default 60 s of graceful shutdown.
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=STANDBY_SHUTDOWN_SECONDS)
    await runner.setup()
    site = web.TCPSite(runner, url.hostname or "127.0.0.1", url.port or 80, reuse_address=True)
    await site.start()
    try:
        yield
    finally:
        await runner.cleanup()
