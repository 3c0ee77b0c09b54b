"""The error responses each kind of operation documents in the OpenAPI schema."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse

from billing.api.serializers import ErrorSerializer, ValidationErrorSerializer

_DESCRIPTIONS = {
    400: "Invalid input: malformed JSON, a wrong type, an unknown value or a broken business rule.",
    401: "No token, or an invalid or expired one.",
    403: "The login belongs to no customer, or its role may not do this.",
    404: "No such object for your customer (or no such page).",
    429: "Too many requests; retry after the time in `detail`.",
}


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    return {
        status: OpenApiResponse(
            response=ValidationErrorSerializer if status == 400 else ErrorSerializer,
            description=_DESCRIPTIONS[status],
        )
        for status in statuses
    }


READ = errors(401, 403, 404, 429)
LIST = errors(400, 401, 403, 404, 429)
WRITE = errors(400, 401, 403, 404, 429)


class TenantTokenScheme(OpenApiAuthenticationExtension):
    target_class = "billing.api.authentication.TenantTokenAuthentication"
    name = "knoxToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <token>`, with a token from POST /api/v1/auth/login/.",
        }


class CursorPageSchema(AutoSchema):
    """Names a cursor-paginated list `CursorPaginated<X>List`, apart from the page-numbered
    `Paginated<X>List` of the same serializer: the two shapes differ (no `count`)."""

    def get_paginated_name(self, serializer_name: str) -> str:
        return f"CursorPaginated{serializer_name}List"
