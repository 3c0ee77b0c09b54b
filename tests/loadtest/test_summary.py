"""The gate's verdict logic on plain stand-ins; stats_cases.py checks the same on Locust's own objects."""

import json
from dataclasses import dataclass, field

import pytest

from rollguard_loadtest.summary import (
    TERMINATION_MESSAGE_LIMIT,
    encode,
    error_rate_percent,
    fit,
    reasons,
    summarize,
    worst_endpoints,
)
from rollguard_loadtest.thresholds import Thresholds

DEFAULTS = Thresholds()


@dataclass
class Entry:
    name: str
    method: str | None = "GET"
    num_requests: int = 100
    num_failures: int = 0
    total_rps: float = 10.0
    percentiles: dict[float, int] = field(default_factory=dict)

    def get_response_time_percentile(self, percent: float) -> int:
        return self.percentiles.get(percent, 0)


@dataclass
class Stats:
    total: Entry
    entries: dict


def entry(name, p95=100, failures=0, requests=100, method="GET"):
    return Entry(name, method, requests, failures, percentiles={0.5: p95 // 2, 0.95: p95, 0.99: p95 * 2})


@pytest.mark.parametrize(
    ("requests", "failures", "rate"),
    [(0, 0, 0.0), (200, 0, 0.0), (200, 10, 5.0), (3, 1, 100 / 3), (0, 4, 100.0)],
)
def test_error_rate_is_failures_over_requests(requests, failures, rate):
    assert error_rate_percent(requests, failures) == pytest.approx(rate)


@pytest.mark.parametrize(
    ("p95", "error_rate", "expected"),
    [
        (500, 5.0, []),
        (501, 0.0, ["p95 501 ms is above the 500 ms threshold"]),
        (100, 5.01, ["error rate 5.01% is above the 5% threshold"]),
        (
            900,
            50.0,
            ["p95 900 ms is above the 500 ms threshold", "error rate 50.00% is above the 5% threshold"],
        ),
    ],
)
def test_each_missed_threshold_is_named_and_limits_are_inclusive(p95, error_rate, expected):
    assert reasons(requests=10, p95_ms=p95, error_rate=error_rate, thresholds=DEFAULTS) == expected


def test_a_run_without_requests_fails():
    assert reasons(requests=0, p95_ms=0, error_rate=0.0, thresholds=DEFAULTS) == [
        "no requests were made: check the host and the API tokens"
    ]


def test_summary_carries_the_contract_fields_from_the_aggregated_entry():
    total = Entry("Aggregated", "", 1520, 0, 50.06, {0.5: 21, 0.95: 88, 0.99: 140})
    summary = summarize(Stats(total, {("/a", "GET"): entry("/a", p95=120)}), DEFAULTS)
    assert summary == {
        "verdict": "passed",
        "reasons": [],
        "requests": 1520,
        "failures": 0,
        "errorRatePercent": 0.0,
        "p50Ms": 21,
        "p95Ms": 88,
        "p99Ms": 140,
        "rps": 50.1,
        "workers": 0,
        "worst": [{"name": "GET /a", "p95Ms": 120, "failures": 0}],
        "thresholds": {"p95Ms": 500, "errorRatePercent": 5},
    }


def test_workers_counts_only_the_workers_that_reported_requests():
    total = Entry("Aggregated", "", 10, 0, 1.0, {0.5: 21, 0.95: 88, 0.99: 140})
    tally = {"worker-a": 6, "worker-b": 4, "worker-idle": 0}
    assert summarize(Stats(total, {}), DEFAULTS, requests_by_worker=tally)["workers"] == 2


def test_worst_endpoints_put_threshold_misses_first_then_slowest():
    rows = worst_endpoints(
        [
            entry("/fast"),
            entry("/slow", p95=450),
            entry("/flaky", p95=30, failures=20),
            entry("/too-slow", p95=800),
            entry("/idle", requests=0),
        ],
        DEFAULTS,
    )
    assert [row["name"] for row in rows] == ["GET /too-slow", "GET /flaky", "GET /slow", "GET /fast"]


def test_summary_with_hundreds_of_long_endpoints_fits_a_termination_message():
    entries = {
        (f"/api/v1/{'x' * 300}/{i}/", "GET"): entry(f"/api/v1/{'x' * 300}/{i}/", p95=600 + i, failures=i)
        for i in range(300)
    }
    total = Entry("Aggregated", "", 30000, 44850, 99.0, {0.5: 700, 0.95: 900, 0.99: 950})
    summary = summarize(Stats(total, entries), DEFAULTS, worst=300)
    fitted = fit(summary)
    size = len(encode(fitted).encode())
    assert size <= TERMINATION_MESSAGE_LIMIT
    assert 0 < len(fitted["worst"]) < 300
    assert fitted["worst"] == summary["worst"][: len(fitted["worst"])]
    assert json.loads(encode(fitted))["verdict"] == "failed"


def test_fit_leaves_a_small_summary_alone_and_counts_bytes_not_characters():
    summary = {"verdict": "passed", "worst": [{"name": "GET /é" * 10, "p95Ms": 1, "failures": 0}] * 3}
    assert fit(summary) == summary
    characters = len(encode(summary))
    trimmed = fit(summary, limit=characters)
    assert len(encode(trimmed).encode()) <= characters
    assert len(trimmed["worst"]) < 3
