"""The `jsonPath` of a web metric: `$`, then `.key`, `['key']` or `[index]` steps.

Argo Rollouts writes the path in braces (`{$.data.ok}`, Kubernetes' JSONPath);
both spellings are read. Filters, wildcards and slices are not: a metric names
one field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

_STEP = re.compile(
    r"\.(?P<key>[A-Za-z_][\w-]*)|\[(?:(?P<index>\d+)|'(?P<single>[^']*)'|\"(?P<double>[^\"]*)\")\]"
)

Step = str | int


def parse(path: str) -> tuple[Step, ...]:
    """The steps of `path`; raises ValueError when it is not `$` followed by steps."""
    text = path.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1].strip()
    if not text.startswith("$"):
        raise ValueError(f"jsonPath {path!r} does not start with '$'")
    steps: list[Step] = []
    position = 1
    while position < len(text):
        match = _STEP.match(text, position)
        if match is None:
            raise ValueError(f"jsonPath {path!r}: cannot read {text[position:]!r}")
        if match.group("index") is not None:
            steps.append(int(match.group("index")))
        else:
            steps.append(
                next(
                    g
                    for g in (match.group("key"), match.group("single"), match.group("double"))
                    if g is not None
                )
            )
        position = match.end()
    return tuple(steps)


def select(document: object, path: str) -> object:
    """The value at `path` in a decoded JSON document; raises LookupError when it is not there."""
    value = document
    walked = "$"
    for step in parse(path):
        if isinstance(step, int):
            if not isinstance(value, Sequence) or isinstance(value, str) or step >= len(value):
                raise LookupError(f"{walked} has no item [{step}]")
            value = value[step]
            walked += f"[{step}]"
        else:
            if not isinstance(value, Mapping) or step not in value:
                raise LookupError(f"{walked} has no field {step!r}")
            value = value[step]
            walked += f".{step}"
    return value
