"""JSON log lines that never carry PHI, tokens or request headers.

The formatter writes an allow-list of record attributes, never the request
object Django attaches to its records; the redaction filter then scrubs the
message itself of credentials and of values under PHI-bearing keys.
"""

from __future__ import annotations

import json
import logging
import re
import traceback
from datetime import UTC, datetime

from config.request_context import current_request_id

# Record attributes that are safe to write; anything else (request, headers,
# arguments of a call) stays out of the log.
_SAFE_EXTRA = ("request_id", "status_code", "method", "path", "duration_ms", "event")

_PHI_KEYS = (
    "first_name",
    "last_name",
    "name",
    "date_of_birth",
    "dob",
    "member_id",
    "ssn",
    "password",
    "token",
    "authorization",
)
_CREDENTIAL = re.compile(r"(?i)\b(token|bearer|basic)\s+[A-Za-z0-9._~+/=-]+")
_HEADER = re.compile(
    r"(?i)([\"']?(?:http_)?authorization[\"']?\s*[:=]\s*)(\"[^\"]*\"|'[^']*'|(?:(?:token|bearer|basic)\s+)?\S+)"
)
_PHI_VALUE = re.compile(
    r"(?i)([\"']?\b(?:" + "|".join(_PHI_KEYS) + r")\b[\"']?\s*[:=]\s*)(\"[^\"]*\"|'[^']*'|[^,}\s]+)"
)
REDACTED = "[REDACTED]"


def redact(text: str) -> str:
    """`text` with credentials and values of PHI-bearing keys replaced."""
    text = _HEADER.sub(lambda m: m.group(1) + REDACTED, text)
    text = _CREDENTIAL.sub(lambda m: m.group(1) + " " + REDACTED, text)
    return _PHI_VALUE.sub(lambda m: m.group(1) + REDACTED, text)


class RequestIdFilter(logging.Filter):
    """Stamp the request id: from the record's request when Django attached one
    (it logs a response after the middleware has returned), else the current one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            request = getattr(record, "request", None)
            record.request_id = getattr(request, "request_id", None) or current_request_id.get()
        return True


class RedactFilter(logging.Filter):
    """Resolve the message once, scrub it, and drop the arguments and the request."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if hasattr(record, "request"):
            record.request = None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for key in _SAFE_EXTRA:
            value = getattr(record, key, None)
            if value not in (None, ""):
                entry[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            # The type and the frames only: an exception's message may quote PHI
            # (a constraint violation repeats the offending values), and so may the
            # source line that raised it.
            entry["exception"] = record.exc_info[0].__name__
            entry["stack"] = [
                f"{frame.filename}:{frame.lineno} in {frame.name}"
                for frame in traceback.extract_tb(record.exc_info[2])
            ]
        return json.dumps(entry, default=str)
