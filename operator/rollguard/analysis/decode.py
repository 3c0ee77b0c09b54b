"""Provider answers turned into the `result` that conditions judge (pure: text in, value out)."""

from __future__ import annotations

import json
from collections.abc import Mapping

from rollguard.analysis import jsonpath
from rollguard.analysis.errors import NoData, ProviderError


def prometheus(body: str) -> float | list[float]:
    """The value of an instant query's answer (`/api/v1/query`).

    A scalar is a number, an instant vector the list of its samples' values (in
    the order Prometheus returned them). An empty vector is NoData; an error
    answer, a range vector or a string is a ProviderError.
    """
    payload = _json(body)
    if not isinstance(payload, Mapping):
        raise ProviderError(f"Prometheus answered {type(payload).__name__}, not an object")
    if payload.get("status") != "success":
        kind = payload.get("errorType") or "error"
        raise ProviderError(f"Prometheus answered {kind}: {payload.get('error') or body[:200]}")
    data = payload.get("data")
    if not isinstance(data, Mapping):
        raise ProviderError("Prometheus answered without data")
    kind, result = data.get("resultType"), data.get("result")
    try:
        if kind == "scalar" and isinstance(result, list):
            return float(result[1])
        if kind == "vector" and isinstance(result, list):
            if not result:
                raise NoData("the query returned an empty vector (no data)")
            return [float(sample["value"][1]) for sample in result]
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise ProviderError(f"Prometheus answered a {kind} that cannot be read: {exc}") from exc
    raise ProviderError(f"the query returned a {kind}; use an instant vector or a scalar")


def web(body: str, path: str) -> object:
    """The field at `path` of a JSON answer; null is NoData, a missing field a ProviderError."""
    document = _json(body)
    try:
        value = jsonpath.select(document, path)
    except (LookupError, ValueError) as exc:
        raise ProviderError(str(exc)) from exc
    if value is None:
        raise NoData(f"{path} is null (no data)")
    return value


def _json(body: str) -> object:
    try:
        return json.loads(body)
    except ValueError as exc:
        raise ProviderError(f"the answer is not JSON ({exc}): {body[:200]!r}") from exc
