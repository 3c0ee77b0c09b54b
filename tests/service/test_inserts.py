"""`insert` writes the row `Model.save()` would: every column, defaults and `auto_now` included."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.forms.models import model_to_dict

from billing.models import Claim
from billing.services.inserts import insert

pytestmark = pytest.mark.integration


def _claim(world, number: int) -> Claim:
    return Claim(
        customer=world.acme.customer,
        number=number,
        patient=world.acme_patient,
        payer=world.payers[1],
        billed_amount=Decimal("12.30"),
        service_date=datetime.date(2026, 3, 1),
    )


def test_an_inserted_row_reads_back_as_a_saved_one(world):
    saved = _claim(world, 900001)
    saved.save()
    inserted = insert(_claim(world, 900002))
    assert inserted.pk is not None
    assert inserted.pk != saved.pk
    assert not inserted._state.adding
    ours, theirs = (model_to_dict(Claim.objects.get(pk=row.pk)) for row in (inserted, saved))
    # Their own number, and times a moment apart: everything else is the same.
    for name in ("id", "number", "created_at", "updated_at"):
        ours.pop(name, None), theirs.pop(name, None)
    assert ours == theirs
    stored = Claim.objects.get(pk=inserted.pk)
    assert stored.status == "submitted"
    assert stored.paid_amount == Decimal("0")
    for moment in (stored.created_at, stored.updated_at):
        assert abs(moment - saved.created_at) < datetime.timedelta(seconds=5)
