"""Reads of payers: global reference data, the same for every tenant."""

from __future__ import annotations

from django.db.models import QuerySet

from billing.models import Payer


def payer_list() -> QuerySet[Payer]:
    return Payer.objects.order_by("name", "id")


def payer_active_list() -> QuerySet[Payer]:
    return payer_list().filter(is_active=True)
