"""Two aids for release drills: which revision answered, and a route that is broken on purpose.

`X-Api-Revision` on every response names the revision that served it (the
`revision` label of the metrics), so a client behind a Service can tell a
canary's answers from the stable pods'. `API_FAULT_ROUTES` lists route names
(`claim-list`, `v2:claim-list`) that answer 500 while everything else,
readiness included, works: a release that is Ready but wrong, as the sandbox's
story ships it. Empty (the default) breaks nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from config.errors import error_body, logger

REVISION_HEADER = "X-Api-Revision"


class DrillMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.revision: str = settings.API_REVISION
        self.fault_routes = frozenset(settings.API_FAULT_ROUTES)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response[REVISION_HEADER] = self.revision
        return response

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        match = request.resolver_match
        if not self.fault_routes or match is None or match.view_name not in self.fault_routes:
            return None
        logger.error("route %s answers 500 (API_FAULT_ROUTES)", match.view_name, extra={"event": "fault"})
        return JsonResponse(error_body("A fault injected by API_FAULT_ROUTES.", "fault_injected"), status=500)
