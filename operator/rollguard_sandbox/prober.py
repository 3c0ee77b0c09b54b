"""A client that keeps asking the Service for its readiness and a page of claims, and counts failures."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp


@dataclass(frozen=True)
class ProbeSample:
    at: float  # on the story clock
    path: str
    status: int  # 0: no HTTP answer at all
    millis: float
    error: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class Prober:
    """GET /health/ready and, with a token, an authenticated claims page, alternately every `interval`."""

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
            targets.append(("/api/v1/claims/?page_size=1", {"Authorization": f"Token {self.token}"}))
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
                return ProbeSample(at, path, resp.status, (time.monotonic() - started) * 1000)
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
