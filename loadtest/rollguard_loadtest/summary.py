"""The verdict of a load test, computed from Locust's request statistics.

Everything here is a pure function of a `locust.stats.RequestStats` (or any
object shaped like one) and the thresholds, so the same arithmetic serves the
local `make loadtest`, the in-cluster verification run and the unit tests.
The summary's contract is summary.schema.json beside this module (docs/contracts.md
links it); `validate` holds every summary to it before it is written, and it must
fit in a Kubernetes termination message, hence `fit`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

import jsonschema

from rollguard_loadtest.thresholds import Thresholds

SCHEMA_PATH = Path(__file__).with_name("summary.schema.json")
SCHEMA: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
# Kubernetes keeps at most 4096 bytes of a container's termination message.
TERMINATION_MESSAGE_LIMIT = 4096
# The schema's own limits: how many endpoints a summary lists, and how long their names are.
WORST_ENDPOINTS: int = SCHEMA["properties"]["worst"]["maxItems"]
MAX_NAME_LENGTH: int = SCHEMA["properties"]["worst"]["items"]["properties"]["name"]["maxLength"]


class EntryStats(Protocol):
    """The part of `locust.stats.StatsEntry` the gate reads."""

    name: str
    method: str | None
    num_requests: int
    num_failures: int

    @property
    def total_rps(self) -> float: ...

    def get_response_time_percentile(self, percent: float) -> int: ...


class RunStats(Protocol):
    """The part of `locust.stats.RequestStats` the gate reads."""

    @property
    def total(self) -> EntryStats: ...

    @property
    def entries(self) -> Mapping[Any, EntryStats]: ...


def error_rate_percent(requests: int, failures: int) -> float:
    """Failed requests as a percentage of all requests (Locust logs every failure as a request too)."""
    if requests == 0:
        return 100.0 if failures else 0.0
    return 100.0 * failures / requests


def percentile_ms(entry: EntryStats, percent: float) -> int:
    return int(entry.get_response_time_percentile(percent)) if entry.num_requests else 0


def endpoint_name(entry: EntryStats) -> str:
    label = f"{entry.method} {entry.name}" if entry.method else entry.name
    return label if len(label) <= MAX_NAME_LENGTH else label[: MAX_NAME_LENGTH - 1] + "…"


def reasons(*, requests: int, p95_ms: int, error_rate: float, thresholds: Thresholds) -> list[str]:
    """One sentence per missed threshold; empty means the run passed."""
    if requests == 0:
        return ["no requests were made: check the host and the API tokens"]
    missed = []
    if p95_ms > thresholds.p95_ms:
        missed.append(f"p95 {p95_ms} ms is above the {thresholds.as_json()['p95Ms']} ms threshold")
    if error_rate > thresholds.error_rate_percent:
        missed.append(
            f"error rate {error_rate:.2f}% is above the {thresholds.as_json()['errorRatePercent']}% threshold"
        )
    return missed


def worst_endpoints(entries: Iterable[EntryStats], thresholds: Thresholds) -> list[dict[str, Any]]:
    """Endpoints ordered worst first: those missing a threshold, then by p95, then by failures."""

    def badness(row: dict[str, Any]) -> tuple[bool, int, int]:
        over = row["p95Ms"] > thresholds.p95_ms or (
            error_rate_percent(row["requests"], row["failures"]) > thresholds.error_rate_percent
        )
        return over, row["p95Ms"], row["failures"]

    rows = [
        {
            "name": endpoint_name(entry),
            "p95Ms": percentile_ms(entry, 0.95),
            "failures": entry.num_failures,
            "requests": entry.num_requests,
        }
        for entry in entries
        if entry.num_requests or entry.num_failures
    ]
    rows.sort(key=badness, reverse=True)
    return [{"name": r["name"], "p95Ms": r["p95Ms"], "failures": r["failures"]} for r in rows]


def workers_reporting(requests_by_worker: Mapping[str, int]) -> int:
    """How many workers reported at least one request (a worker that made none did not take part)."""
    return sum(1 for requests in requests_by_worker.values() if requests > 0)


def summarize(
    stats: RunStats,
    thresholds: Thresholds,
    *,
    worst: int = WORST_ENDPOINTS,
    requests_by_worker: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """The contract's summary of one run: verdict, reasons, totals, percentiles and the worst endpoints.

    `requests_by_worker` (a master's tally of its workers' reports) becomes
    `workers`; a run without workers reports 0.
    """
    total = stats.total
    requests, failures = total.num_requests, total.num_failures
    error_rate = error_rate_percent(requests, failures)
    p95 = percentile_ms(total, 0.95)
    missed = reasons(requests=requests, p95_ms=p95, error_rate=error_rate, thresholds=thresholds)
    return {
        "verdict": "failed" if missed else "passed",
        "reasons": missed,
        "requests": requests,
        "failures": failures,
        "errorRatePercent": round(error_rate, 2),
        "p50Ms": percentile_ms(total, 0.5),
        "p95Ms": p95,
        "p99Ms": percentile_ms(total, 0.99),
        "rps": round(float(total.total_rps), 1),
        "workers": workers_reporting(requests_by_worker or {}),
        "worst": worst_endpoints(stats.entries.values(), thresholds)[:worst],
        "thresholds": thresholds.as_json(),
    }


def encode(summary: Mapping[str, Any]) -> str:
    return json.dumps(summary, ensure_ascii=False, separators=(", ", ": "))


def fit(summary: Mapping[str, Any], limit: int = TERMINATION_MESSAGE_LIMIT) -> dict[str, Any]:
    """The summary with `worst` trimmed from the end until its UTF-8 JSON fits in `limit` bytes."""
    fitted = dict(summary)
    fitted["worst"] = list(summary.get("worst", []))
    while len(encode(fitted).encode()) > limit and fitted["worst"]:
        fitted["worst"].pop()
    if len(encode(fitted).encode()) > limit:
        raise ValueError(f"summary is {len(encode(fitted).encode())} bytes even without endpoints")
    return fitted


@functools.cache
def _validator() -> jsonschema.Draft7Validator:
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    return jsonschema.Draft7Validator(SCHEMA)


def validate(summary: Mapping[str, Any]) -> None:
    """Raise ValueError, naming every broken field, when `summary` breaks summary.schema.json."""
    problems = [
        f"{error.json_path}: {error.message[:160]}"
        for error in sorted(_validator().iter_errors(summary), key=lambda e: e.json_path)
    ]
    if problems:
        raise ValueError("the summary breaks summary.schema.json: " + "; ".join(problems))
