"""A client that keeps asking the Service for readiness, claims and the payer summary, and counts failures.

Each answer's `X-Api-Revision` header (the API sets it) says which revision
served it, so the story can tell how many requests a bad revision answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

REVISION_HEADER = "X-Api-Revision"


@dataclass(frozen=True)
class ProbeSample:
    at: float  # on the story clock
    path: str
    status: int  # 0: no HTTP answer at all
    millis: float
    error: str = ""
    revision: str = ""  # the revision that answered ("" without an answer)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class Prober:
    """GET /health/ready and, with a token, an authenticated claims page three times and the payer
    summary once, in turn every `interval`.

    A cycle of five requests: the Service balances requests round robin over
    its Ready pods (two, or four during the story's canary), and five shares
    no factor with either, so each path reaches every pod in turn.
    """

    base_url: str
    clock: Callable[[], float] = time.monotonic
    token: str | None = None
    interval: float = 0.15
    timeout: float = 5.0
    samples: list[ProbeSample] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None

    def paths(self) -> list[tuple[str, dict[str, str]]]:
        targets: list[tuple[str, dict[str, str]]] = [("/health/ready", {})]
        if self.token:
            auth = {"Authorization": f"Token {self.token}"}
            claims = ("/api/v1/claims/?page_size=1", auth)
            targets += [claims, ("/api/v1/payers/summary/?page_size=5", auth), claims, claims]
        return targets

    async def _run(self) -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout)) as session:
            turn = 0
            while True:
                targets = self.paths()
                path, headers = targets[turn % len(targets)]
                turn += 1
                self.samples.append(await self._one(session, path, headers))
                await asyncio.sleep(self.interval)

    async def _one(self, session: aiohttp.ClientSession, path: str, headers: dict[str, str]) -> ProbeSample:
        started = time.monotonic()
        at = self.clock()
        try:
            async with session.get(self.base_url + path, headers=headers) as resp:
                await resp.read()
                millis = (time.monotonic() - started) * 1000
                revision = resp.headers.get(REVISION_HEADER, "")
                return ProbeSample(at, path, resp.status, millis, revision=revision)
        except (aiohttp.ClientError, TimeoutError) as error:
            return ProbeSample(
                at, path, 0, (time.monotonic() - started) * 1000, f"{type(error).__name__}: {error}"
            )

    async def once(self, path: str) -> ProbeSample:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout)) as session:
            return await self._one(session, path, {})

    @property
    def running(self) -> bool:
        return self._task is not None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


@dataclass(frozen=True)
class ProbeTally:
    requests: int
    failures: int
    p95_ms: float

    @classmethod
    def of(cls, samples: list[ProbeSample]) -> ProbeTally:
        latencies = sorted(sample.millis for sample in samples)
        p95 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))] if latencies else 0.0
        return cls(len(samples), sum(not sample.ok for sample in samples), round(p95, 1))


def window(samples: list[ProbeSample], start: float, end: float) -> list[ProbeSample]:
    return [sample for sample in samples if start <= sample.at < end]


def exposure(samples: list[ProbeSample], revision: str) -> dict[str, Any]:
    """The prober's requests while `revision` served: from its first answer up to its last.

    The window is half-open (the last answer is left out): both ends are the
    revision's own answers, and counting both would overstate its share of a
    short window; from one answer up to another, its share is exact.

    `servedPercent` is the share of those requests it answered, `failedPercent`
    the share it answered with a failure (what a strategy lets a bad build do
    to users), and `failuresFromRevisionPercent` the share of the window's
    failures that were its answers.
    """
    served_at = [sample.at for sample in samples if revision and sample.revision == revision]
    if not served_at:
        return {"revision": revision, "requests": 0, "served": 0, "failed": 0}
    first, last = served_at[0], served_at[-1]
    during = (
        [s for s in samples if first <= s.at < last]
        if last > first
        else [s for s in samples if s.at == first]
    )
    served = [sample for sample in during if sample.revision == revision]
    failed = [sample for sample in served if not sample.ok]
    failures = sum(not sample.ok for sample in during)
    return {
        "revision": revision,
        "from": round(served_at[0], 2),
        "to": round(served_at[-1], 2),
        "requests": len(during),
        "served": len(served),
        "failed": len(failed),
        "failures": failures,
        "servedPercent": round(100 * len(served) / len(during), 1),
        "failedPercent": round(100 * len(failed) / len(during), 1),
        "failuresFromRevisionPercent": round(100 * len(failed) / failures, 1) if failures else 0.0,
    }
