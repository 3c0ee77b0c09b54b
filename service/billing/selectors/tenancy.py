"""Finding whether an id the caller cannot see belongs to another tenant."""

from __future__ import annotations

from django.db.models import Model

from billing.models import Customer


def belongs_to_other_tenant(*, model: type[Model], pk: object, customer: Customer) -> bool:
    return model._default_manager.filter(pk=pk).exclude(customer=customer).exists()
