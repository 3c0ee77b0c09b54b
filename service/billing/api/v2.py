"""Routes of /api/v2/: the v1 API, except that claims and audit events are listed by cursor.

A v1 claim or audit list counts every row of the tenant on every page (its
`count`), so its cost grows with the tenant. v2 pages by keyset instead:
`{"next", "previous", "results"}`, no `count`, no `page`. That is a different
response shape, so it is a new version rather than a change to v1: a v1 client
reading `count` or asking for `?page=7` keeps working. Everything else in v2 is
v1 unchanged, so a client moves by changing its base URL only.
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.routers import DefaultRouter

from billing.api.audit import AuditEventViewSet
from billing.api.auth import LoginView, LogoutView
from billing.api.claims import ClaimViewSet
from billing.api.filters import ClaimCursorFilter
from billing.api.pagination import AuditEventCursorPagination, ClaimCursorPagination
from billing.api.patients import PatientViewSet
from billing.api.payers import PayerViewSet
from billing.api.schema import LIST, CursorPageSchema
from billing.api.serializers import AuditEventSerializer, ClaimSerializer

CURSOR = (
    "Pages by cursor: follow `next` and `previous` (opaque URLs); there is no `count` and no "
    "`page`. A cursor that was not issued by this API is a 404."
)


@extend_schema_view(
    list=extend_schema(
        summary="List the claims of your customer, newest number first",
        description=CURSOR,
        responses={200: ClaimSerializer, **LIST},
    )
)
class ClaimCursorViewSet(ClaimViewSet):
    pagination_class = ClaimCursorPagination
    filterset_class = ClaimCursorFilter
    schema = CursorPageSchema()


@extend_schema_view(
    list=extend_schema(
        summary="List your customer's audit events, newest first",
        description=CURSOR,
        responses={200: AuditEventSerializer, **LIST},
    )
)
class AuditEventCursorViewSet(AuditEventViewSet):
    pagination_class = AuditEventCursorPagination
    schema = CursorPageSchema()


router = DefaultRouter()
router.register("claims", ClaimCursorViewSet, basename="claim")
router.register("patients", PatientViewSet, basename="patient")
router.register("payers", PayerViewSet, basename="payer")
router.register("audit-events", AuditEventCursorViewSet, basename="audit-event")

urlpatterns = [
    path("auth/login/", LoginView.as_view(), name="login"),
    path("auth/logout/", LogoutView.as_view(), name="logout"),
    *router.urls,
]
