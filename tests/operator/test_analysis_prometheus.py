"""The `prometheus` analysis provider against a real Prometheus server scraping known metrics."""

from __future__ import annotations

import datetime
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from operator_harness import free_port
from prometheus_server import ERROR_RATE, P95, metrics_server, prometheus

from rollguard.analysis.model import judge
from rollguard.analysis.providers import measure

pytestmark = pytest.mark.integration

ARGS = {
    "release": "claims-api",
    "namespace": "claims",
    "canaryRevision": "canary",
    "stableRevision": "stable",
}


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@pytest.fixture(scope="module")
def prometheus_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with (
        metrics_server() as target,
        prometheus(tmp_path_factory.mktemp("prometheus"), target, free_port()) as url,
    ):
        yield url


def metric(address: str, query: str, **fields: object) -> dict[str, object]:
    return {
        "name": "error-rate",
        "successCondition": "result <= 0.05",
        "provider": {"prometheus": {"address": address, "query": query, "timeout": "2s"}},
        **fields,
    }


async def test_the_stable_revision_passes(prometheus_url: str) -> None:
    query = ERROR_RATE.format(revision="{{args.stableRevision}}")
    taken = await measure(metric(prometheus_url, query), ARGS, now)
    assert (taken.phase, taken.message) == ("Successful", "")
    assert json.loads(taken.value or "") == [0.0]


async def test_the_canary_fails_its_error_rate(prometheus_url: str) -> None:
    query = ERROR_RATE.format(revision="{{args.canaryRevision}}")
    taken = await measure(metric(prometheus_url, query), ARGS, now)
    assert taken.phase == "Failed"
    assert json.loads(taken.value or "") == [pytest.approx(0.1)]
    assert taken.message == "successCondition 'result <= 0.05' does not hold"
    assert taken.started_at <= taken.finished_at


async def test_the_canary_fails_its_latency_and_the_stable_passes(prometheus_url: str) -> None:
    p95 = {"successCondition": "result[0] < 0.5"}
    canary = await measure(metric(prometheus_url, P95.format(revision="canary"), **p95), ARGS, now)
    stable = await measure(metric(prometheus_url, P95.format(revision="stable"), **p95), ARGS, now)
    assert (canary.phase, json.loads(canary.value or "")) == ("Failed", [pytest.approx(1.5)])
    assert (stable.phase, json.loads(stable.value or "")) == ("Successful", [pytest.approx(0.3)])


async def test_a_scalar_query(prometheus_url: str) -> None:
    taken = await measure(
        metric(prometheus_url, "scalar(up{job='api'})", successCondition="result == 1"), ARGS, now
    )
    assert (taken.phase, taken.value) == ("Successful", "1.0")


async def test_no_data_is_inconclusive(prometheus_url: str) -> None:
    query = ERROR_RATE.format(revision="never-deployed")
    taken = await measure(metric(prometheus_url, query), ARGS, now)
    assert taken.phase == "Inconclusive"
    assert "empty vector" in taken.message


async def test_a_bad_query_is_an_error_with_prometheus_own_words(prometheus_url: str) -> None:
    taken = await measure(metric(prometheus_url, "sum(rate(http_requests_total[10s])"), ARGS, now)
    assert taken.phase == "Error"
    assert "HTTP 400: Prometheus answered bad_data" in taken.message


async def test_prometheus_down_is_an_error_counted_until_the_limit_and_never_a_pass() -> None:
    spec = metric(f"http://127.0.0.1:{free_port()}", "up", consecutiveErrorLimit=2, interval="1s")
    taken = []
    for _ in range(2):
        taken.append(await measure(spec, ARGS, now))
        assert taken[-1].phase == "Error"
        assert "Cannot connect" in taken[-1].message
        assert judge(spec, taken, now()).phase == "Running"
    taken.append(await measure(spec, ARGS, now))
    verdict = judge(spec, taken, now())
    assert verdict.phase == "Error"
    assert "3 errors in a row, more than consecutiveErrorLimit 2" in verdict.message


async def test_a_prometheus_that_does_not_answer_times_out(tmp_path: Path) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        address = f"http://127.0.0.1:{silent.getsockname()[1]}"
        spec = metric(address, "up")
        spec["provider"] = {"prometheus": {"address": address, "query": "up", "timeout": "300ms"}}
        taken = await measure(spec, ARGS, now)
    assert taken.phase == "Error"
    assert taken.message == f"POST {address}/api/v1/query: no answer within 0.3s"


async def test_an_unknown_argument_is_an_error(prometheus_url: str) -> None:
    taken = await measure(metric(prometheus_url, "up{pod='{{args.pod}}'}"), ARGS, now)
    assert taken.phase == "Error"
    assert taken.message.startswith("query: unknown argument {{args.pod}}")
