"""Reads of patients, always scoped to one tenant before anything else."""

from __future__ import annotations

from django.db.models import QuerySet

from billing.models import Customer, Patient


def patient_list(*, customer: Customer) -> QuerySet[Patient]:
    return Patient.objects.filter(customer=customer).order_by("last_name", "first_name", "id")
