"""The id of the request being served, shared by the middleware, logs and audit rows."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

current_request_id: ContextVar[str] = ContextVar("current_request_id", default="")

# Accept what a proxy or client sends only if it is a plain token: the id is
# echoed in a header and written to logs, so it must not carry anything else.
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def choose_request_id(incoming: str | None) -> str:
    """The client's `X-Request-ID` when it is a safe token, else a new UUID."""
    if incoming and _SAFE_ID.match(incoming):
        return incoming
    return uuid.uuid4().hex
