"""Kubernetes probes: liveness, readiness and startup. No authentication, no throttling."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.health.checks import readiness_reasons, unapplied_migrations
from config.health.probes import applied_migrations, code_migrations, database_answers

_HealthSerializer = inline_serializer(
    "Health",
    fields={
        "status": serializers.ChoiceField(choices=["ok", "unavailable"]),
        "reasons": serializers.ListField(child=serializers.CharField(), required=False),
    },
)
_RESPONSES = {
    200: _HealthSerializer,
    503: OpenApiResponse(_HealthSerializer, description="Not ready; `reasons` says why."),
}


def _answer(reasons: list[str]) -> Response:
    if reasons:
        return Response({"status": "unavailable", "reasons": reasons}, status=503)
    return Response({"status": "ok"})


class ProbeView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []

    @property
    def alias(self) -> str:
        return settings.HEALTH_DATABASE_ALIAS

    @property
    def timeout_ms(self) -> int:
        return settings.HEALTH_DB_TIMEOUT_MS


class LiveView(ProbeView):
    @extend_schema(
        summary="Liveness: the process serves requests", responses={200: _HealthSerializer}, auth=[]
    )
    def get(self, request: Request) -> Response:
        return _answer([])


class ReadyView(ProbeView):
    @extend_schema(
        summary="Readiness: the database answers and has every expand migration this code needs",
        responses=_RESPONSES,
        auth=[],
    )
    def get(self, request: Request) -> Response:
        applied, error = applied_migrations(alias=self.alias, timeout_ms=self.timeout_ms)
        missing = unapplied_migrations(code_migrations(), applied) if applied is not None else []
        return _answer(readiness_reasons(database_error=error, missing_migrations=missing))


class StartupView(ProbeView):
    """Passes once the app has loaded and the database has answered once."""

    started = False

    @extend_schema(summary="Startup: the app loaded and reached its database", responses=_RESPONSES, auth=[])
    def get(self, request: Request) -> Response:
        if not StartupView.started:
            error = database_answers(alias=self.alias, timeout_ms=self.timeout_ms)
            if error is not None:
                return _answer([f"database unreachable: {error}"])
            StartupView.started = True
        return _answer([])
