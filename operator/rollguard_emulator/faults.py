"""Scripted API failures: the next N matching requests answer with an error."""

from __future__ import annotations

from dataclasses import dataclass

import kmock


@dataclass
class Fault:
    """Fail `times` requests whose action, resource plural and subresource match (None: any)."""

    status: int
    action: str | None = None
    plural: str | None = None
    subresource: str | None = None
    times: int = 1
    hits: int = 0
    # Seconds for a `Retry-After` header, as an API server sends with 429 (and 503).
    retry_after: float | None = None

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

    def error(self) -> kmock.KubernetesError:
        """The error to answer with; a Retry-After goes in the Status details, as the API server
        puts it (`details.retryAfterSeconds`), and into the header."""
        details = {} if self.retry_after is None else {"retryAfterSeconds": self.retry_after}
        return kmock.KubernetesError(
            status=self.status, reason=self.reason, message="injected by the emulator", details=details
        )
