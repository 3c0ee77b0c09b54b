"""Scripted API failures: the next N matching requests answer with an error."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Fault:
    """Fail `times` requests whose action, resource plural and subresource match (None: any)."""

    status: int
    action: str | None = None
    plural: str | None = None
    subresource: str | None = None
    times: int = 1
    hits: int = 0

    def matches(self, action: str | None, plural: str | None, subresource: str | None) -> bool:
        return (
            self.hits < self.times
            and (self.action is None or self.action == action)
            and (self.plural is None or self.plural == plural)
            and (self.subresource is None or self.subresource == subresource)
        )

    @property
    def reason(self) -> str:
        return {409: "Conflict", 429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable"}.get(
            self.status, "Injected"
        )
