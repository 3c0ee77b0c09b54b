"""One JSON shape for every error: `detail` says what went wrong, `code` names it,
and `errors` maps each invalid field to its messages."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from billing.errors import DomainError

INVALID_DETAIL = "The request is invalid; `errors` says what to fix in each field."


def _as_api_exception(exc: Exception) -> Exception:
    if isinstance(exc, DomainError):
        field = exc.field or "non_field_errors"
        error = exceptions.ValidationError({field: [exc.message]}, code=exc.code)
        error.domain_code = exc.code  # type: ignore[attr-defined]
        error.domain_message = exc.message  # type: ignore[attr-defined]
        return error
    return exc


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    exc = _as_api_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        response.data = {
            "detail": getattr(exc, "domain_message", INVALID_DETAIL),
            "code": getattr(exc, "domain_code", "invalid"),
            "errors": errors,
        }
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        response.data = {"detail": str(detail), "code": getattr(detail, "code", "error")}
    return response
