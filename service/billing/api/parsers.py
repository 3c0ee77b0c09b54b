"""The JSON parser of the API: bounded in size (413) and in nesting depth (400) before parsing."""

from __future__ import annotations

import json
import re
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from billing.api.errors import PayloadTooLarge
from config.errors import too_large_detail

# Strings (which may hold brackets) or a bracket: enough to measure nesting without parsing.
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')
_OPENERS = frozenset(b"[{")


def nesting_depth(raw: bytes) -> int:
    """How deeply arrays and objects nest in the JSON text `raw` (0 for a scalar)."""
    depth = deepest = 0
    for match in _TOKENS.finditer(raw):
        token = match.group()
        if token[0] in _OPENERS:
            depth += 1
            deepest = max(deepest, depth)
        elif token[0] != ord('"'):
            depth -= 1
    return deepest


class BoundedJSONParser(JSONParser):
    """DRF's JSONParser reads the stream itself, past Django's body limit: this one reads at most
    `API_MAX_BODY_BYTES` (+1 to notice more) and refuses documents nested deeper than `API_MAX_JSON_DEPTH`."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = settings.API_MAX_BODY_BYTES
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge(too_large_detail(limit))
        depth_limit = settings.API_MAX_JSON_DEPTH
        if nesting_depth(raw) > depth_limit:
            raise ParseError(f"JSON parse error - nested deeper than {depth_limit} levels.")
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json.loads(raw.decode(encoding), parse_constant=_refuse_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from None


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")
