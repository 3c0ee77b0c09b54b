"""The gate against Locust's own stats objects.

Importing Locust patches the standard library with gevent, so this module is
not collected with the rest of the suite: test_gate_on_locust_stats.py runs it
in a pytest process of its own.
"""

import json

import pytest
from locust import events
from locust.env import Environment
from locust.stats import RequestStats

from rollguard_loadtest import gate
from rollguard_loadtest.summary import summarize
from rollguard_loadtest.thresholds import Thresholds


def run_stats(samples, failures=(), seconds=10.0):
    """RequestStats filled through Locust's own log calls: samples are (method, name, response_ms)."""
    stats = RequestStats()
    for method, name, response_time in samples:
        stats.log_request(method, name, response_time, 100)
    for method, name in failures:
        stats.log_error(method, name, "boom")
    stats.total.start_time = stats.total.last_request_timestamp - seconds
    return stats


def uniform(method, name, times):
    return [(method, name, t) for t in times]


def test_percentiles_and_rates_match_locusts_own_arithmetic():
    # 1..100 ms plus a hundred 50 ms answers: the top 5% are 100..91 ms, the top 1% 100 and 99.
    samples = uniform("GET", "/api/v1/claims/", range(1, 101))
    samples += uniform("POST", "/api/v1/claims/", [50] * 100)
    stats = run_stats(samples, failures=[("POST", "/api/v1/claims/")] * 4)
    summary = summarize(stats, Thresholds())
    assert summary["requests"] == 200
    assert summary["failures"] == 4
    assert summary["errorRatePercent"] == 2.0
    assert summary["p50Ms"] == stats.total.get_response_time_percentile(0.5) == 50
    assert summary["p95Ms"] == stats.total.get_response_time_percentile(0.95) == 91
    assert summary["p99Ms"] == stats.total.get_response_time_percentile(0.99) == 99
    assert summary["rps"] == pytest.approx(20.0, abs=0.1)
    assert summary["verdict"] == "passed"


def test_a_slow_endpoint_fails_the_run_and_leads_the_worst_list():
    samples = uniform("GET", "/api/v1/payers/summary/", [700] * 30)
    samples += uniform("GET", "/health/ready", [5] * 70)
    summary = summarize(run_stats(samples), Thresholds())
    assert summary["verdict"] == "failed"
    assert summary["reasons"] == ["p95 700 ms is above the 500 ms threshold"]
    assert summary["worst"][0] == {"name": "GET /api/v1/payers/summary/", "p95Ms": 700, "failures": 0}


def test_failures_fail_the_run_on_the_error_rate():
    samples = uniform("GET", "/api/v1/claims/[id]/", [20] * 100)
    summary = summarize(run_stats(samples, failures=[("GET", "/api/v1/claims/[id]/")] * 6), Thresholds())
    assert summary["reasons"] == ["error rate 6.00% is above the 5% threshold"]
    assert summary["worst"] == [{"name": "GET /api/v1/claims/[id]/", "p95Ms": 20, "failures": 6}]


def test_the_quitting_listener_sets_the_exit_code_and_writes_the_summary(tmp_path, monkeypatch):
    monkeypatch.setenv("ROLLGUARD_RESULTS_DIR", str(tmp_path))
    monkeypatch.setenv("ROLLGUARD_TERMINATION_LOG", str(tmp_path / "termination-log"))
    monkeypatch.setenv("ROLLGUARD_P95_MS", "100")
    environment = Environment(events=events)
    environment.create_local_runner()
    for t in [150] * 10:
        environment.stats.log_request("GET", "/api/v1/payers/", t, 10)
    gate.register(environment.events)

    environment.events.quitting.fire(environment=environment)

    assert environment.process_exit_code == 1
    written = json.loads((tmp_path / "termination-log").read_text())
    assert written == json.loads((tmp_path / "summary.json").read_text())
    assert written["reasons"] == ["p95 150 ms is above the 100 ms threshold"]
    assert written["thresholds"] == {"p95Ms": 100, "errorRatePercent": 5}
