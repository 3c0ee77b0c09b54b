"""Benchmark figures: read from Locust's CSV, compared with the floor, laid out as a table.

Pure functions only; the runner feeds them files and database counts.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from typing import Any

from rollguard_loadtest.report import render_rows


@dataclass(frozen=True)
class Scenario:
    """One benchmarked endpoint: the bench_locustfile user class that calls it, and its label."""

    label: str
    user_class: str


# The floor first: every other endpoint is compared with it.
SCENARIOS: tuple[Scenario, ...] = (
    Scenario("GET /health/live (floor)", "LiveProbe"),
    Scenario("GET /api/v1/claims/?[filters]", "ClaimListing"),
    Scenario("GET /api/v1/payers/summary/", "PayerSummary"),
    Scenario("POST /api/v1/claims/", "ClaimCreation"),
)


@dataclass(frozen=True)
class EndpointFigures:
    label: str
    requests: int
    failures: int
    p50_ms: float
    p95_ms: float
    rps: float
    queries_per_request: float | None = None


def aggregated_row(stats_csv: str) -> dict[str, str]:
    """The `Aggregated` row of Locust's `<prefix>_stats.csv`."""
    for row in csv.DictReader(io.StringIO(stats_csv)):
        if row.get("Name") == "Aggregated":
            return row
    raise ValueError("Locust stats CSV has no Aggregated row")


def figures_from_csv(label: str, stats_csv: str, queries: int | None) -> EndpointFigures:
    row = aggregated_row(stats_csv)
    requests = int(row["Request Count"])
    return EndpointFigures(
        label=label,
        requests=requests,
        failures=int(row["Failure Count"]),
        p50_ms=float(row["50%"]),
        p95_ms=float(row["95%"]),
        rps=float(row["Requests/s"]),
        queries_per_request=None if queries is None or requests == 0 else queries / requests,
    )


def _ratio(value: float, floor: float) -> float | None:
    return round(value / floor, 2) if floor else None


def compare_with_floor(rows: list[EndpointFigures]) -> list[dict[str, Any]]:
    """Each endpoint's figures plus its p50, p95 and throughput as multiples of the first row's."""
    if not rows:
        return []
    floor = rows[0]
    return [
        {
            **asdict(row),
            "queries_per_request": None
            if row.queries_per_request is None
            else round(row.queries_per_request, 2),
            "p50_vs_floor": _ratio(row.p50_ms, floor.p50_ms),
            "p95_vs_floor": _ratio(row.p95_ms, floor.p95_ms),
            "rps_vs_floor": _ratio(row.rps, floor.rps),
        }
        for row in rows
    ]


def render_table(compared: list[dict[str, Any]]) -> str:
    def shown(value: Any) -> Any:
        return "-" if value is None else value

    return render_rows(
        ["endpoint", "requests", "fail", "p50 ms", "p95 ms", "req/s", "p50 x", "p95 x", "req/s x", "SQL/req"],
        [
            [
                row["label"],
                row["requests"],
                row["failures"],
                row["p50_ms"],
                row["p95_ms"],
                row["rps"],
                shown(row["p50_vs_floor"]),
                shown(row["p95_vs_floor"]),
                shown(row["rps_vs_floor"]),
                shown(row["queries_per_request"]),
            ]
            for row in compared
        ],
    )
