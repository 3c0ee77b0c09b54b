"""gunicorn's logger with every access-log field JSON-escaped.

The access format (gunicorn.conf.py) is a JSON object with %(...)s fields in
quotes; a path carrying a quote or a newline (`%22`, `%0A` decoded) would end
the string early or split the line. Each text field is escaped to what it
reads as inside a JSON string.
"""

from __future__ import annotations

import json
from typing import Any

from gunicorn.glogging import Logger


def json_escaped(value: Any) -> Any:
    """`value` as it must appear between the quotes of a JSON string; numbers and None unchanged."""
    if isinstance(value, str):
        return json.dumps(value)[1:-1]
    return value


class JsonAccessLogger(Logger):
    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        return {
            key: json_escaped(value) for key, value in super().atoms(resp, req, environ, request_time).items()
        }
