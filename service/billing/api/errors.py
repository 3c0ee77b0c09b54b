"""One JSON shape for every error: `detail` says what went wrong, `code` names it,
and `errors` (on every 400) maps each invalid field to its messages.

`errors` is capped: a body with thousands of unknown keys gets a short answer,
not one that is ten times its size.
"""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError, transaction
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from billing.errors import DomainError, NotFound
from config.errors import database_error_status, error_body

INVALID_DETAIL = "The request is invalid; `errors` says what to fix in each field."
MAX_ERROR_FIELDS = 20
MAX_FIELD_MESSAGES = 5


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


def _as_api_exception(exc: Exception) -> Exception:
    if isinstance(exc, NotFound):
        return exceptions.NotFound(exc.message)
    if isinstance(exc, DomainError):
        field = exc.field or "non_field_errors"
        error = exceptions.ValidationError({field: [exc.message]}, code=exc.code)
        error.domain_code = exc.code  # type: ignore[attr-defined]
        error.domain_message = exc.message  # type: ignore[attr-defined]
        return error
    if isinstance(exc, DatabaseError) and (mapped := database_error_status(exc)):
        # The transaction is broken: it must roll back, not commit.
        transaction.set_rollback(True)
        status_code, code, detail = mapped
        error = exceptions.APIException(detail, code=code)
        error.status_code = status_code
        return error
    return exc


def _messages(value: Any, prefix: str = "") -> list[str]:
    """Every message under `value` as flat strings; nested fields are named by their path."""
    if isinstance(value, dict):
        return [m for key, inner in value.items() for m in _messages(inner, f"{prefix}{key}: ")]
    if isinstance(value, list):
        return [m for inner in value for m in _messages(inner, prefix)]
    return [f"{prefix}{value}"]


def capped_errors(data: Any) -> dict[str, list[str]]:
    """`data` as {field: [messages]}, at most MAX_ERROR_FIELDS fields of MAX_FIELD_MESSAGES messages."""
    fields = data if isinstance(data, dict) else {"non_field_errors": data}
    capped = {
        str(name): _messages(value)[:MAX_FIELD_MESSAGES]
        for name, value in list(fields.items())[:MAX_ERROR_FIELDS]
    }
    if len(fields) > MAX_ERROR_FIELDS:
        capped.setdefault("non_field_errors", []).append(
            f"{len(fields) - MAX_ERROR_FIELDS} more fields have errors; fix these first."
        )
    return capped


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    exc = _as_api_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body(
            getattr(exc, "domain_message", INVALID_DETAIL),
            getattr(exc, "domain_code", "invalid"),
            capped_errors(response.data),
        )
        return response
    detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
    code = getattr(detail, "code", "error")
    errors = {"body": [str(detail)]} if response.status_code == status.HTTP_400_BAD_REQUEST else None
    response.data = error_body(str(detail), code, errors)
    return response
