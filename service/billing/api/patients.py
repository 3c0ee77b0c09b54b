"""/api/v1/patients/: a customer's patients. Protected health information."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.serializers import BaseSerializer

from billing.api.base import AuditedTenantViewSet
from billing.api.filters import PatientFilter
from billing.api.schema import LIST, READ, WRITE, errors
from billing.api.serializers import PatientSerializer
from billing.models import Patient
from billing.selectors.patients import patient_list
from billing.services.patients import patient_create, patient_delete, patient_update


@extend_schema_view(
    list=extend_schema(
        summary="List the patients of your customer", responses={200: PatientSerializer, **LIST}
    ),
    retrieve=extend_schema(summary="Read one patient", responses={200: PatientSerializer, **READ}),
    create=extend_schema(
        summary="Register a patient", responses={201: PatientSerializer, **errors(400, 401, 403, 429)}
    ),
    update=extend_schema(summary="Replace a patient's details", responses={200: PatientSerializer, **WRITE}),
    partial_update=extend_schema(
        summary="Edit a patient's details", responses={200: PatientSerializer, **WRITE}
    ),
    destroy=extend_schema(summary="Delete a patient without claims", responses={204: None, **WRITE}),
)
class PatientViewSet(
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    AuditedTenantViewSet,
):
    serializer_class = PatientSerializer
    filterset_class = PatientFilter
    audit_object_type = "patient"

    def get_queryset(self) -> QuerySet[Patient]:
        return patient_list(customer=self.customer)

    def perform_create(self, serializer: BaseSerializer) -> None:
        serializer.instance = patient_create(
            actor=self.request.user, customer=self.customer, **serializer.validated_data
        )

    def perform_update(self, serializer: BaseSerializer) -> None:
        serializer.instance = patient_update(
            actor=self.request.user, patient=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance: Patient) -> None:
        patient_delete(actor=self.request.user, patient=instance)
