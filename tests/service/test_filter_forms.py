"""Filter forms share their class's fields, and each still validates only its own data."""

from __future__ import annotations

from billing.api.filters import ClaimCursorFilter


def test_forms_of_one_filterset_class_share_fields_but_not_their_errors():
    bad = ClaimCursorFilter(data={"payer": "1.5", "status": "lost"}).form
    good = ClaimCursorFilter(data={"payer": "7", "service_date_after": "2026-01-31"}).form
    assert bad.fields["payer"] is good.fields["payer"]
    assert bad.fields is not good.fields
    assert not bad.is_valid()
    assert set(bad.errors) == {"payer", "status"}
    assert good.is_valid(), good.errors
    assert good.cleaned_data["payer"] == 7
    assert str(good.cleaned_data["service_date"].start.date()) == "2026-01-31"
    again = ClaimCursorFilter(data={"payer": "1e30"}).form
    assert not again.is_valid()
    assert set(again.errors) == {"payer"}
