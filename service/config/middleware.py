"""Middleware of every request: its id (echoed in `X-Request-ID`), and what every API response carries."""

from __future__ import annotations

from collections.abc import Callable

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers

from config.errors import database_error_status, error_body, logger
from config.request_context import choose_request_id, current_request_id

HEADER = "X-Request-ID"


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = choose_request_id(request.headers.get(HEADER))
        request.request_id = request_id  # type: ignore[attr-defined]
        token = current_request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            current_request_id.reset(token)
        response[HEADER] = request_id
        return response


class ApiResponseMiddleware:
    """No cache may keep a response (they hold PHI), and a database error that
    escaped a view becomes 503 (unreachable) or 409 (a race) in the JSON error shape."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        add_never_cache_headers(response)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DatabaseError):
            return None
        mapped = database_error_status(exception)
        if mapped is None:
            return None
        status, code, detail = mapped
        logger.warning("database error answered %s", status, extra={"event": type(exception).__name__})
        errors = {"non_field_errors": [detail]} if status == 400 else None
        return JsonResponse(error_body(detail, code, errors), status=status)
