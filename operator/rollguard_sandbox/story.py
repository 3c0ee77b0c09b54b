"""The release story: apply each release's rendered chart and follow its ApiRelease to a final phase."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rollguard.builders.spec import API_VERSION
from rollguard.kube import KubeClient
from rollguard_sandbox.chart import apply_all, find, render
from rollguard_sandbox.containers import expand_vars

APIRELEASES = (API_VERSION, "ApiRelease")
FINAL_PHASES = {"Succeeded", "RolledBack", "Failed", "Blocked"}


@dataclass(frozen=True)
class Step:
    """One release of the story (see story.yaml)."""

    name: str
    description: str
    values: Mapping[str, Any]
    expect: str
    # The release ships a build that answers errors on purpose: the prober's failures during it
    # are what the story shows (how many users a strategy lets the bad build reach), not a fault.
    broken_build: bool = False
    # The named build (story.yaml `builds`) its image runs; "" is the checkout as it is.
    build: str = ""
    # `manage.py` commands run as the schema's owner once the release ended as expected.
    afterwards: tuple[str, ...] = ()


@dataclass(frozen=True)
class Build:
    """The API's code as an earlier version had it: the checkout without some migrations."""

    name: str
    without_migrations: tuple[str, ...] = ()


#: The commands a release may run afterwards (`afterwards`), each reporting JSON on its last line.
AFTERWARDS = frozenset({"rollup_check"})


def load_builds(path: Path) -> dict[str, Build]:
    data = yaml.safe_load(path.read_text())
    return {
        name: Build(name=name, without_migrations=tuple(item.get("withoutMigrations") or ()))
        for name, item in (data.get("builds") or {}).items()
    }


def load_story(path: Path) -> list[Step]:
    data = yaml.safe_load(path.read_text())
    builds = load_builds(path)
    steps = [
        Step(
            name=item["name"],
            description=item.get("description", ""),
            values=item.get("values") or {},
            expect=item["expect"],
            broken_build=bool(item.get("brokenBuild", False)),
            build=str(item.get("build") or ""),
            afterwards=tuple(item.get("afterwards") or ()),
        )
        for item in data["releases"]
    ]
    for step in steps:
        if step.build and step.build not in builds:
            raise ValueError(f"{path}: release {step.name} names build {step.build!r}, not under `builds`")
        if unknown := set(step.afterwards) - AFTERWARDS:
            raise ValueError(
                f"{path}: release {step.name} runs {sorted(unknown)} afterwards; known: {sorted(AFTERWARDS)}"
            )
    return steps


def expand_values(values: Any, names: Mapping[str, str]) -> Any:
    """`$(NAME)` in every string of a release's values, for addresses known only at run time."""
    if isinstance(values, str):
        return expand_vars(values, names)
    if isinstance(values, Mapping):
        return {key: expand_values(value, names) for key, value in values.items()}
    if isinstance(values, list):
        return [expand_values(value, names) for value in values]
    return values


def strategy_of(spec: Mapping[str, Any]) -> str:
    return "canary" if (spec.get("strategy") or {}).get("canary") else "rolling"


@dataclass
class PhaseSpan:
    phase: str
    start: float
    end: float | None = None

    @property
    def seconds(self) -> float:
        return round((self.end if self.end is not None else self.start) - self.start, 2)


@dataclass
class ReleaseResult:
    name: str
    description: str
    expected: str
    broken_build: bool = False
    strategy: str = "rolling"
    generation: int = 0
    revision: str = ""
    phase: str = ""
    message: str = ""
    started: float = 0.0
    ended: float = 0.0
    spans: list[PhaseSpan] = field(default_factory=list)
    load_test: dict[str, Any] = field(default_factory=dict)
    rollback: dict[str, Any] = field(default_factory=dict)
    migrations: dict[str, Any] = field(default_factory=dict)
    prober: dict[str, Any] = field(default_factory=dict)
    # The prober's requests while the release's revision served (a rolled-back release only).
    exposure: dict[str, Any] = field(default_factory=dict)
    build: str = ""
    # Read from the database once the release ended: its tables, and what its Jobs applied.
    tables: list[str] = field(default_factory=list)
    applied_migrations: list[dict[str, Any]] = field(default_factory=list)
    # `afterwards` command -> its exit code and its JSON report.
    checks: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.phase == self.expected

    @property
    def seconds(self) -> float:
        return round(self.ended - self.started, 2)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["spans"] = [
            {"phase": s.phase, "start": round(s.start, 2), "seconds": s.seconds} for s in self.spans
        ]
        data.update(
            ok=self.ok, seconds=self.seconds, started=round(self.started, 2), ended=round(self.ended, 2)
        )
        return data


PhaseHook = Callable[[ReleaseResult, str], Awaitable[None]]


@dataclass
class StoryRunner:
    """Plays releases one after another against the operator, through the API server only."""

    client: KubeClient
    helm: str
    chart: Path
    values_file: Path
    namespace: str
    release: str
    clock: Callable[[], float]
    say: Callable[[str], None]
    timeout: float = 300.0
    poll: float = 0.2
    # Returns why the story cannot go on (the operator died), or None.
    trouble: Callable[[], str | None] = lambda: None

    def render(self, step: Step) -> list[dict[str, Any]]:
        return render(
            self.helm,
            self.chart,
            release=self.release,
            namespace=self.namespace,
            values_files=[self.values_file],
            values=step.values,
        )

    async def play(self, step: Step, on_phase: PhaseHook | None = None) -> ReleaseResult:
        result = ReleaseResult(
            name=step.name,
            description=step.description,
            expected=step.expect,
            broken_build=step.broken_build,
            build=step.build,
        )
        manifests = self.render(step)
        result.strategy = strategy_of(find(manifests, "ApiRelease").get("spec") or {})
        result.started = self.clock()
        await apply_all(self.client, manifests, self.namespace)
        current = await self.client.get(*APIRELEASES, self.namespace, self.release)
        assert current is not None, f"ApiRelease {self.release} vanished right after it was applied"
        result.generation = int(current["metadata"].get("generation", 1))
        self.say(f"applied {step.name} (generation {result.generation}): {step.description}")

        deadline = time.monotonic() + self.timeout
        while True:
            obj = await self.client.get(*APIRELEASES, self.namespace, self.release) or {}
            status = obj.get("status") or {}
            if int(status.get("observedGeneration") or 0) >= result.generation:
                phase = str(status.get("phase") or "Pending")
                if not result.spans or result.spans[-1].phase != phase:
                    now = self.clock()
                    if result.spans:
                        result.spans[-1].end = now
                    result.spans.append(PhaseSpan(phase, now))
                    result.revision = str(status.get("currentRevision") or "")
                    self.say(
                        f"  {step.name}: {phase}"
                        + (f" ({status.get('message')})" if status.get("message") else "")
                    )
                    if on_phase is not None:
                        await on_phase(result, phase)
                if phase in FINAL_PHASES:
                    result.spans[-1].end = self.clock()
                    result.phase, result.message = phase, str(status.get("message") or "")
                    result.load_test = dict(status.get("loadTest") or {})
                    result.rollback = dict(status.get("rollback") or {})
                    result.migrations = dict(status.get("migrations") or {})
                    break
            if problem := self.trouble():
                result.phase, result.message = "Aborted", problem
                self.say(f"  {step.name}: {problem}")
                break
            if time.monotonic() > deadline:
                result.phase = "Timeout"
                result.message = f"no final phase within {self.timeout:g}s (last: {status.get('phase')})"
                self.say(f"  {step.name}: {result.message}")
                break
            await asyncio.sleep(self.poll)
        result.ended = self.clock()
        return result

    async def play_all(self, steps: Sequence[Step], on_phase: PhaseHook | None = None) -> list[ReleaseResult]:
        return [await self.play(step, on_phase) for step in steps]
