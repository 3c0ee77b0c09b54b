"""Routes of /api/v1/."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from billing.api.audit import AuditEventViewSet
from billing.api.auth import LoginView, LogoutView
from billing.api.claims import ClaimViewSet
from billing.api.patients import PatientViewSet
from billing.api.payers import PayerViewSet

router = DefaultRouter()
router.register("claims", ClaimViewSet, basename="claim")
router.register("patients", PatientViewSet, basename="patient")
router.register("payers", PayerViewSet, basename="payer")
router.register("audit-events", AuditEventViewSet, basename="audit-event")

urlpatterns = [
    path("auth/login/", LoginView.as_view(), name="login"),
    path("auth/logout/", LogoutView.as_view(), name="logout"),
    *router.urls,
]
