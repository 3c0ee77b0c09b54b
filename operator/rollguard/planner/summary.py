"""The Locust master's JSON summary, read from its pod's termination message.

Its contract is schemas/loadtest-summary.schema.json (a copy of the one the
threshold gate validates against before writing); a summary that breaks it is
refused with what is wrong.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from rollguard.planner.jsonschema_subset import check_schema, errors

SCHEMA_FILE = "loadtest-summary.schema.json"
_NUMBERS = ("integer", "number")


@dataclass(frozen=True)
class Summary:
    verdict: str
    reasons: list[str]
    stats: dict[str, Any]
    worst: list[dict[str, Any]] = field(default_factory=list)


@functools.cache
def summary_schema() -> dict[str, Any]:
    """The load-test summary's JSON Schema, as the package ships it."""
    schema: dict[str, Any] = json.loads((resources.files("rollguard") / "schemas" / SCHEMA_FILE).read_text())
    check_schema(schema)
    return schema


def parse_summary(text: str) -> Summary:
    """Parse the threshold gate's summary (the last line of `text`); ValueError says what is wrong."""
    try:
        data = json.loads(text.strip().splitlines()[-1] if text.strip() else "")
    except (json.JSONDecodeError, IndexError) as exc:
        raise ValueError(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    wrong = list(errors(summary_schema(), data))
    if wrong:
        raise ValueError("; ".join(wrong[:3]) + (f" (and {len(wrong) - 3} more)" if len(wrong) > 3 else ""))
    numbers = [key for key, node in summary_schema()["properties"].items() if node.get("type") in _NUMBERS]
    return Summary(
        verdict=data["verdict"],
        reasons=list(data["reasons"]),
        stats={key: data[key] for key in numbers if key in data},
        worst=[dict(item) for item in data["worst"]],
    )
