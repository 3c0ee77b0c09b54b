"""Pagination that refuses a page size it would otherwise clamp: page numbers (v1) and cursors (v2)."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.conf import settings
from django.core.paginator import EmptyPage, Paginator
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

MAX_PAGE_SIZE = 100


class StrictPageSizeMixin:
    """`page_size` outside 1..100 is a 400 naming the limit, so a client that
    asked for more learns it rather than silently getting fewer rows."""

    page_size: int | None
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return int(self.page_size or 0)
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        f"Must be a whole number from 1 to {self.max_page_size}; got {raw!r}."
                    ]
                }
            )
        return size

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)  # type: ignore[misc]
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
                parameter["description"] = f"Rows per page, 1 to {self.max_page_size} (larger is a 400)."
        return parameters


class StrictPageNumberPagination(StrictPageSizeMixin, PageNumberPagination):
    """`?page=N`: the v1 shape, with a `count` (one COUNT query per page)."""


class CappedCountPaginator(Paginator):
    """A paginator that counts at most `API_LIST_COUNT_CAP` rows and serves no page past them.

    The count reads at most cap + 1 index entries (`SELECT count(*) FROM (... LIMIT cap + 1)`),
    whatever the tenant's size. Pages past the cap would need an OFFSET that costs as much as
    the count it saves, so they are refused like pages past the end.
    """

    def __init__(self, object_list: Any, per_page: int, **kwargs: Any) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.cap = int(settings.API_LIST_COUNT_CAP)

    @cached_property
    def rows_counted(self) -> int:
        """The matching rows, counted up to one past the cap."""
        return int(self.object_list.order_by().values("pk")[: self.cap + 1].count())

    @cached_property
    def count(self) -> int:
        return min(self.rows_counted, self.cap)

    @property
    def capped(self) -> bool:
        return self.rows_counted > self.cap

    def validate_number(self, number: Any) -> int:
        try:
            return super().validate_number(number)
        except EmptyPage:
            if self.capped:
                raise EmptyPage(
                    f"numbered pages reach the first {self.cap:,} matching rows; narrow the filters, "
                    "or page by cursor under /api/v2/"
                ) from None
            raise


class CappedPageNumberPagination(StrictPageNumberPagination):
    """`?page=N` for lists that grow with the tenant (claims, audit events): the v1 shape plus
    `count_capped`, with `count` exact up to `API_LIST_COUNT_CAP` rows and capped beyond."""

    django_paginator_class = CappedCountPaginator
    invalid_page_message = "Invalid page: {message}."

    def get_paginated_response(self, data: Any) -> Response:
        response = super().get_paginated_response(data)
        paginator = self.page.paginator
        assert isinstance(paginator, CappedCountPaginator)
        body = {"count": response.data["count"], "count_capped": paginator.capped}
        response.data = {**body, **response.data}
        return response

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paged: dict[str, Any] = super().get_paginated_response_schema(schema)
        properties = paged["properties"]
        properties["count"] = {
            **properties["count"],
            "description": "Matching rows, exact up to the cap (`count_capped` false), else the cap.",
        }
        capped = {
            "type": "boolean",
            "example": False,
            "description": "More rows match than the cap; pages reach the first `count` of them only.",
        }
        paged["properties"] = {"count": properties["count"], "count_capped": capped, **properties}
        paged["required"] = [*paged.get("required", []), "count_capped"]
        return paged


class StrictCursorPagination(StrictPageSizeMixin, CursorPagination):
    """`?cursor=...`: keyset pages on an indexed, unique order, with no COUNT.

    A page costs the same at any depth and any tenant size: the next page
    starts where the last row's key left off (`WHERE key < last ORDER BY key
    LIMIT n + 1`), instead of counting and skipping every row before it.
    Subclasses name the order; its first column must be (nearly) unique.
    """

    page_size = 25


class ClaimCursorPagination(StrictCursorPagination):
    # Claim numbers are unique per tenant: the (customer, number) unique index walks it backwards.
    ordering = "-number"


class AuditEventCursorPagination(StrictCursorPagination):
    # The (customer, -occurred_at) index; the id settles the rare equal timestamps.
    ordering = ("-occurred_at", "-id")
