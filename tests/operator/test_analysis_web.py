"""The `web` analysis provider against a local HTTP server answering JSON."""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from rollguard.analysis.providers import measure

pytestmark = pytest.mark.integration

ARGS = {"release": "claims-api", "canaryRevision": "4"}


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


async def health(request: web.Request) -> web.Response:
    ratio = {"3": 0.01, "4": 0.2}.get(request.match_info["revision"])
    return web.json_response({"data": {"errorRatio": ratio, "ok": ratio is not None and ratio < 0.05}})


async def broken(request: web.Request) -> web.Response:
    return web.Response(status=503, text="upstream connect error")


async def not_json(request: web.Request) -> web.Response:
    return web.Response(text="all good")


@pytest.fixture
async def server() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/revisions/{revision}/health", health)
    app.router.add_get("/broken", broken)
    app.router.add_get("/text", not_json)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def metric(url: str, json_path: str = "$.data.errorRatio", **fields: object) -> dict[str, object]:
    return {
        "name": "web-check",
        "successCondition": "result <= 0.05",
        "provider": {"web": {"url": url, "jsonPath": json_path, "timeout": "2s"}},
        **fields,
    }


async def test_a_json_field_within_the_threshold_passes(server: str) -> None:
    taken = await measure(metric(f"{server}/revisions/3/health"), ARGS, now)
    assert (taken.phase, taken.value, taken.message) == ("Successful", "0.01", "")


async def test_a_json_field_over_the_threshold_fails(server: str) -> None:
    taken = await measure(metric(server + "/revisions/{{args.canaryRevision}}/health"), ARGS, now)
    assert (taken.phase, taken.value) == ("Failed", "0.2")


async def test_a_boolean_field(server: str) -> None:
    spec = metric(f"{server}/revisions/4/health", "{$.data.ok}", successCondition="result == true")
    taken = await measure(spec, ARGS, now)
    assert (taken.phase, taken.value) == ("Failed", "false")


async def test_a_null_field_is_inconclusive(server: str) -> None:
    taken = await measure(metric(f"{server}/revisions/9/health"), ARGS, now)
    assert taken.phase == "Inconclusive"
    assert taken.message == "$.data.errorRatio is null (no data)"


@pytest.mark.parametrize(
    ("path", "json_path", "says"),
    [
        ("/revisions/3/health", "$.data.p95", "has no field 'p95'"),
        ("/broken", "$.a", "HTTP 503: upstream connect error"),
        ("/text", "$.a", "not JSON"),
        ("/missing", "$.a", "HTTP 404"),
    ],
)
async def test_an_answer_that_cannot_be_judged_is_an_error(
    server: str, path: str, json_path: str, says: str
) -> None:
    taken = await measure(metric(server + path, json_path), ARGS, now)
    assert taken.phase == "Error"
    assert says in taken.message


async def test_a_metric_without_one_known_provider_is_an_error() -> None:
    for provider in ({}, {"web": {}, "prometheus": {}}, {"datadog": {}}, None):
        taken = await measure({"name": "x", "provider": provider}, ARGS, now)
        assert taken.phase == "Error"
        assert "provider must name exactly one of prometheus, web" in taken.message
    taken = await measure({"name": "x", "provider": {"web": {"url": "http://127.0.0.1:1"}}}, ARGS, now)
    assert (taken.phase, taken.message) == (
        "Error",
        "the provider's jsonPath must be a non-empty string, not None",
    )
    taken = await measure(metric("http://127.0.0.1:1", "data.ratio"), ARGS, now)
    assert (taken.phase, taken.message) == ("Error", "jsonPath 'data.ratio' does not start with '$'")
