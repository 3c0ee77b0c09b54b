"""Benchmark figures: read from Locust's CSV, compared with the floor, laid out as a table.

Pure functions only; the runner feeds them files and database counts.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from rollguard_loadtest.bench.probe import Probe
from rollguard_loadtest.report import render_rows


@dataclass(frozen=True)
class Scenario:
    """One benchmarked endpoint: the bench_locustfile user class that calls it, its label, and
    the request whose statements are counted."""

    label: str
    user_class: str
    probe: Probe | None = None


# The floor first: every other endpoint is compared with it.
SCENARIOS: tuple[Scenario, ...] = (
    Scenario("GET /health/live (floor)", "LiveProbe", Probe("GET", "/health/live")),
    Scenario(
        "GET /api/v2/claims/?[filters]",
        "ClaimListing",
        Probe(
            "GET",
            "/api/v2/claims/?status=paid&payer={payer}&service_date_after={after}"
            "&service_date_before={before}&page_size={page_size}",
        ),
    ),
    Scenario(
        "GET /api/v1/payers/summary/",
        "PayerSummary",
        Probe("GET", "/api/v1/payers/summary/?page_size={page_size}"),
    ),
    Scenario("POST /api/v1/claims/", "ClaimCreation", Probe("POST", "/api/v1/claims/")),
)


@dataclass(frozen=True)
class EndpointFigures:
    label: str
    requests: int
    failures: int
    p50_ms: float
    p95_ms: float
    rps: float
    #: SQL statements per request, counted by PostgreSQL (pg_stat_statements, `bench.probe`);
    #: the most of any page size.
    queries: float | None = None
    #: The same request served the naive DRF way (`bench.naive`), counted by Django.
    naive_queries: int | None = None
    #: Claims per tenant when this was measured.
    size: int = 0
    #: Statements per request at each probed page size (`bench.probe.PAGE_SIZES`), for a paged endpoint.
    queries_by_page_size: dict[str, float] = field(default_factory=dict)


def aggregated_row(stats_csv: str) -> dict[str, str]:
    """The `Aggregated` row of Locust's `<prefix>_stats.csv`."""
    for row in csv.DictReader(io.StringIO(stats_csv)):
        if row.get("Name") == "Aggregated":
            return row
    raise ValueError("Locust stats CSV has no Aggregated row")


def figures_from_csv(
    label: str,
    stats_csv: str,
    queries: Mapping[int, float] | None,
    *,
    naive_queries: int | None = None,
    size: int = 0,
) -> EndpointFigures:
    """Locust's figures of one run, with the statements per request `bench.probe` counted
    (by page size; 0 for an unpaged endpoint)."""
    row = aggregated_row(stats_csv)
    requests = int(row["Request Count"])
    return EndpointFigures(
        label=label,
        requests=requests,
        failures=int(row["Failure Count"]),
        p50_ms=_milliseconds(row["50%"]),
        p95_ms=_milliseconds(row["95%"]),
        rps=float(row["Requests/s"]),
        queries=max(queries.values()) if queries else None,
        naive_queries=naive_queries,
        size=size,
        queries_by_page_size={str(page): count for page, count in (queries or {}).items() if page},
    )


def _milliseconds(cell: str) -> float:
    # Locust writes N/A for the percentiles of a run that completed no request.
    return 0.0 if cell == "N/A" else float(cell)


def _ratio(value: float, floor: float) -> float | None:
    return round(value / floor, 2) if floor else None


def compare_with_floor(rows: list[EndpointFigures]) -> list[dict[str, Any]]:
    """Each endpoint's figures plus its p50, p95 and throughput as multiples of the floor's
    (the first row measured at the same size)."""
    floors: dict[int, EndpointFigures] = {}
    for row in rows:
        floors.setdefault(row.size, row)
    return [
        {
            **asdict(row),
            "queries": None if row.queries is None else round(row.queries, 2),
            "p50_x_floor": _ratio(row.p50_ms, floors[row.size].p50_ms),
            "p95_x_floor": _ratio(row.p95_ms, floors[row.size].p95_ms),
            "rps_x_floor": _ratio(row.rps, floors[row.size].rps),
        }
        for row in rows
    ]


def cost_ratios(rows: list[EndpointFigures]) -> dict[str, float | None]:
    """Per endpoint: its p50 at the largest size over its p50 at the smallest."""
    sizes = sorted({row.size for row in rows})
    if len(sizes) < 2:
        return {}
    by_key = {(row.label, row.size): row for row in rows}
    ratios: dict[str, float | None] = {}
    for row in rows:
        if row.size != sizes[0] or (row.label, sizes[-1]) not in by_key:
            continue
        ratios[row.label] = _ratio(by_key[(row.label, sizes[-1])].p50_ms, row.p50_ms)
    return ratios


@dataclass(frozen=True)
class Targets:
    """What the benchmark must show; `make bench-api` reports every one it misses."""

    p95_ms: float = 500.0
    p95_x_floor: float = 3.0
    cost_ratio: float = 1.25
    queries: float = 4.0


def missed_targets(
    compared: list[dict[str, Any]], ratios: dict[str, float | None], targets: Targets = Targets()
) -> list[str]:
    """Each target missed, in words, with its figure. Latency targets hold at the smallest size."""
    if not compared:
        return []
    smallest = min(row["size"] for row in compared)
    missed = []
    for row in compared:
        at = f"{row['label']} at {row['size']:,} claims"
        if row["size"] == smallest and row["p95_ms"] >= targets.p95_ms:
            missed.append(f"{at}: p95 {row['p95_ms']:g} ms, target under {targets.p95_ms:g} ms")
        if row["size"] == smallest and (row["p95_x_floor"] or 0) > targets.p95_x_floor:
            missed.append(
                f"{at}: p95 {row['p95_x_floor']:g} x the floor, target at most {targets.p95_x_floor:g}"
            )
        # Every API endpoint, reads and writes alike; the floor touches no database.
        if " /api/" in row["label"] and (row["queries"] or 0) > targets.queries:
            missed.append(f"{at}: {row['queries']:g} queries per request, target at most {targets.queries:g}")
        by_size = row.get("queries_by_page_size") or {}
        if len(set(by_size.values())) > 1:
            shown = ", ".join(f"{count:g} at page size {size}" for size, count in by_size.items())
            missed.append(f"{at}: queries differ by page size ({shown}), target the same at every size")
    for label, ratio in ratios.items():
        if ratio is not None and ratio > targets.cost_ratio:
            missed.append(
                f"{label}: p50 ratio largest/smallest size {ratio:g}, target at most {targets.cost_ratio:g}"
            )
    return missed


def render_table(compared: list[dict[str, Any]], ratios: dict[str, float | None] | None = None) -> str:
    def shown(value: Any) -> Any:
        return "-" if value is None else value

    ratios = ratios or {}
    return render_rows(
        [
            "endpoint",
            "claims/tenant",
            "requests",
            "fail",
            "p50 ms",
            "p95 ms",
            "req/s",
            "p95 x",
            "SQL/req",
            "naive SQL",
            "p50 big/small",
        ],
        [
            [
                row["label"],
                f"{row['size']:,}",
                row["requests"],
                row["failures"],
                row["p50_ms"],
                row["p95_ms"],
                row["rps"],
                shown(row["p95_x_floor"]),
                shown(row["queries"]),
                shown(row["naive_queries"]),
                shown(ratios.get(row["label"])),
            ]
            for row in compared
        ],
    )
