"""Errors the services raise; the API turns each into a 400 that names the field."""

from __future__ import annotations


class DomainError(Exception):
    """A request that breaks a business rule. `field` names the input at fault."""

    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidTransition(DomainError):
    code = "invalid_transition"


class ClaimLocked(DomainError):
    code = "claim_locked"


class InUse(DomainError):
    code = "in_use"


class NotFound(DomainError):
    """The object went away while the request ran (another request deleted it)."""

    code = "not_found"
