"""The JSON error shape of every response Django itself produces, and how database errors map to statuses.

DRF views answer through `billing.api.errors`; what never reaches a view (an
unknown URL, a body too large to read, a database that went away before the
view ran, an unexpected exception) is answered here in the same shape.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, DataError, IntegrityError, InterfaceError, OperationalError
from django.http import HttpRequest, JsonResponse

logger = logging.getLogger("config.errors")

#: (status, code, detail) of the database errors a request can meet.
UNAVAILABLE = (503, "database_unavailable", "The database is unavailable; retry in a few seconds.")
CONFLICT = (409, "conflict", "Another request changed this data at the same time; read it again and retry.")
# The last wall behind the validators: a value PostgreSQL cannot hold (a time
# zone offset past 15:59, a number past a column's range) is the client's error.
OUT_OF_RANGE = (400, "out_of_range", "A value in the request is out of the range the database can store.")
TOO_LARGE = 413


def error_body(detail: str, code: str, errors: dict[str, list[str]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"detail": detail, "code": code}
    if errors is not None:
        body["errors"] = errors
    return body


def database_error_status(error: DatabaseError) -> tuple[int, str, str] | None:
    """The status a database error answers with, or None for a bug (a 500)."""
    if isinstance(error, OperationalError | InterfaceError):
        return UNAVAILABLE
    if isinstance(error, IntegrityError):
        return CONFLICT
    if isinstance(error, DataError):
        return OUT_OF_RANGE
    return None


def too_large_detail(limit: int) -> str:
    return f"The request body is larger than {limit} bytes; send less."


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    if isinstance(exception, RequestDataTooBig):
        from django.conf import settings

        return JsonResponse(
            error_body(too_large_detail(settings.DATA_UPLOAD_MAX_MEMORY_SIZE), "too_large"), status=TOO_LARGE
        )
    detail = "The request is invalid."
    return JsonResponse(error_body(detail, "invalid", {"non_field_errors": [detail]}), status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body("You may not do this.", "permission_denied"), status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    detail = "No such URL. The API lives under /api/v1/; its schema is at /api/schema/."
    return JsonResponse(error_body(detail, "not_found"), status=404)


def server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        error_body("Something went wrong on our side; it has been logged.", "error"), status=500
    )
