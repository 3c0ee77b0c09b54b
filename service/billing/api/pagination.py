"""Pagination that refuses a page size it would otherwise clamp: page numbers (v1) and cursors (v2)."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.request import Request

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
