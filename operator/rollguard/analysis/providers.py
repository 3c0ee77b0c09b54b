"""Measurements from the providers an analysis metric names: `prometheus` and `web` (I/O).

`measure` never raises for provider trouble: a Prometheus that is down, a
timeout, an HTTP error or an answer that cannot be read is an Error
measurement with a message, which `model.judge` counts against
`consecutiveErrorLimit`. The `loadTest` provider is a LoadTest the planner runs,
not a request made here.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Awaitable, Callable, Mapping

import aiohttp

from rollguard.analysis import decode, jsonpath
from rollguard.analysis.errors import NoData, ProviderError
from rollguard.analysis.model import (
    DEFAULT_TIMEOUT,
    Measurement,
    Phase,
    assess,
    parse_duration,
    render,
    timestamp,
)

# The longest result kept in a measurement's `value` (status is stored in the object).
MAX_VALUE_LENGTH = 256
USER_AGENT = "rollguard-analysis"

Fetch = Callable[[Mapping[str, object], Mapping[str, str]], Awaitable[object]]


async def measure(
    metric: Mapping[str, object], args: Mapping[str, str], now: Callable[[], datetime.datetime]
) -> Measurement:
    """One measurement of `metric`, its provider's query or URL rendered with `args`."""
    started = now()

    def finished(phase: Phase, value: str | None, message: str) -> Measurement:
        return Measurement(phase, value, message, timestamp(started), timestamp(now()))

    try:
        fetch, settings = _provider(metric)
        result = await fetch(settings, args)
    except NoData as exc:
        return finished("Inconclusive", None, str(exc))
    except ProviderError as exc:
        return finished("Error", None, str(exc))
    phase, message = assess(metric, result)
    return finished(phase, _value_text(result), message)


async def prometheus(settings: Mapping[str, object], args: Mapping[str, str]) -> object:
    """An instant query (`POST /api/v1/query`): a number for a scalar, a list for a vector."""
    address = _rendered(settings, "address", args).rstrip("/")
    query = _rendered(settings, "query", args)
    timeout = _timeout(settings)
    url = f"{address}/api/v1/query"
    status, body = await _request("POST", url, timeout, data={"query": query, "timeout": f"{timeout:g}"})
    try:
        result = decode.prometheus(body)
    except ProviderError as exc:
        raise ProviderError(f"POST {url}: HTTP {status}: {exc}") from exc
    if not 200 <= status < 300:
        raise ProviderError(f"POST {url}: HTTP {status}")
    return result


async def web(settings: Mapping[str, object], args: Mapping[str, str]) -> object:
    """A GET whose JSON answer holds the result at `jsonPath`."""
    url = _rendered(settings, "url", args)
    path = _field(settings, "jsonPath")
    try:
        jsonpath.parse(path)
    except ValueError as exc:
        raise ProviderError(str(exc)) from exc
    status, body = await _request("GET", url, _timeout(settings))
    if not 200 <= status < 300:
        raise ProviderError(f"GET {url}: HTTP {status}: {body[:200].strip()}")
    try:
        return decode.web(body, path)
    except ProviderError as exc:
        raise ProviderError(f"GET {url}: {exc}") from exc


PROVIDERS: Mapping[str, Fetch] = {"prometheus": prometheus, "web": web}


def _provider(metric: Mapping[str, object]) -> tuple[Fetch, Mapping[str, object]]:
    provider = metric.get("provider")
    kinds = sorted(provider) if isinstance(provider, Mapping) else []
    if len(kinds) != 1 or kinds[0] not in PROVIDERS:
        raise ProviderError(
            f"provider must name exactly one of {', '.join(PROVIDERS)}, not {kinds or provider!r}"
        )
    assert isinstance(provider, Mapping)
    settings = provider[kinds[0]]
    if not isinstance(settings, Mapping):
        raise ProviderError(f"provider {kinds[0]} needs an object of settings, not {settings!r}")
    return PROVIDERS[kinds[0]], settings


def _field(settings: Mapping[str, object], key: str) -> str:
    value = settings.get(key)
    if not isinstance(value, str) or not value:
        raise ProviderError(f"the provider's {key} must be a non-empty string, not {value!r}")
    return value


def _rendered(settings: Mapping[str, object], key: str, args: Mapping[str, str]) -> str:
    try:
        return render(_field(settings, key), args)
    except ValueError as exc:
        raise ProviderError(f"{key}: {exc}") from exc


def _timeout(settings: Mapping[str, object]) -> float:
    try:
        seconds = parse_duration(settings.get("timeout") or DEFAULT_TIMEOUT)
    except ValueError as exc:
        raise ProviderError(f"timeout: {exc}") from exc
    if seconds <= 0:
        raise ProviderError("timeout must be longer than 0s")
    return seconds


async def _request(
    method: str, url: str, seconds: float, data: Mapping[str, str] | None = None
) -> tuple[int, str]:
    """The status and body of one request; ProviderError when no answer came within `seconds`."""
    try:
        async with (
            aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=seconds), headers={"User-Agent": USER_AGENT}
            ) as session,
            session.request(method, url, data=data) as response,
        ):
            return response.status, await response.text()
    except TimeoutError as exc:
        raise ProviderError(f"{method} {url}: no answer within {seconds:g}s") from exc
    except (aiohttp.ClientError, UnicodeDecodeError, ValueError) as exc:
        raise ProviderError(f"{method} {url}: {type(exc).__name__} {exc}".strip()) from exc


def _value_text(result: object) -> str:
    text = json.dumps(result)
    return text if len(text) <= MAX_VALUE_LENGTH else text[: MAX_VALUE_LENGTH - 3] + "..."
