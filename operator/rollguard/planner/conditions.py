"""metav1.Condition lists: set one condition, keeping lastTransitionTime when the status holds."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any


def timestamp(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(value: str | None) -> datetime.datetime | None:
    if not value:
        return None
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))


def set_condition(
    conditions: Sequence[Mapping[str, Any]],
    *,
    type: str,
    status: bool,
    reason: str,
    message: str,
    generation: int,
    now: datetime.datetime,
) -> list[dict[str, Any]]:
    """A new list with the condition `type` set; other conditions are kept in place."""
    text = "True" if status else "False"
    result: list[dict[str, Any]] = []
    found = False
    for existing in conditions:
        if existing.get("type") != type:
            result.append(dict(existing))
            continue
        found = True
        changed = existing.get("status") != text
        result.append(
            {
                "type": type,
                "status": text,
                "observedGeneration": generation,
                "lastTransitionTime": timestamp(now)
                if changed
                else existing.get("lastTransitionTime", timestamp(now)),
                "reason": reason,
                "message": message,
            }
        )
    if not found:
        result.append(
            {
                "type": type,
                "status": text,
                "observedGeneration": generation,
                "lastTransitionTime": timestamp(now),
                "reason": reason,
                "message": message,
            }
        )
    return result


def condition(conditions: Sequence[Mapping[str, Any]], type: str) -> Mapping[str, Any] | None:
    return next((item for item in conditions if item.get("type") == type), None)
