"""A claim body's patient and payer are looked up in one statement, with each field's own errors."""

from __future__ import annotations

import pytest
from django.db import connection
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from test_bad_input import _claim_body

from billing.models import Claim, Patient, Payer
from billing.selectors.rows import row_by_id, rows_by_id

pytestmark = pytest.mark.integration

MISSING = 987_654


def _post(world, body):
    with CaptureQueriesContext(connection) as captured:
        response = world.acme.client.post("/api/v1/claims/", body, format="json")
    lookups = [q["sql"] for q in captured.captured_queries if '"billing_patient"' in q["sql"]]
    return response, lookups


def test_rows_by_id_finds_what_row_by_id_finds(world):
    acme = {"customer_id": world.acme.customer.pk}
    cases = [
        (Patient, world.acme_patient.pk, acme),
        (Patient, world.globex_patient.pk, acme),  # another tenant's: not found
        (Payer, world.payers[1].pk, {}),
        (Payer, MISSING, {}),
        (Claim, world.acme_claim.pk, {"customer_id": world.acme.customer.pk}),
    ]
    together = rows_by_id(*cases)
    alone = [row_by_id(model, pk, **equal) for model, pk, equal in cases]
    assert [row is None for row in together] == [False, True, False, True, False]
    for ours, theirs in zip(together, alone, strict=True):
        assert (ours is None) == (theirs is None)
        if ours is not None:
            assert type(ours) is type(theirs)
            assert model_to_dict(ours) == model_to_dict(theirs)
            assert not ours._state.adding


def test_a_valid_submission_looks_its_patient_and_payer_up_once(world):
    response, lookups = _post(world, _claim_body(world))
    assert response.status_code == 201, response.json()
    assert len(lookups) == 1
    assert '"billing_payer"' in lookups[0]
    assert response.json()["patient_name"].endswith("Adams")
    assert response.json()["payer_name"] == world.payers[0].name


def test_both_ids_missing_are_both_reported(world):
    response, lookups = _post(world, _claim_body(world, patient=world.globex_patient.pk, payer=MISSING))
    assert response.status_code == 400, response.json()
    errors = response.json()["errors"]
    assert errors["patient"] == [f'Invalid pk "{world.globex_patient.pk}" - object does not exist.']
    assert errors["payer"] == [f'Invalid pk "{MISSING}" - object does not exist.']
    assert len(lookups) == 1
    assert not Claim.objects.filter(customer=world.acme.customer).exclude(pk=world.acme_claim.pk).exists()


def test_one_id_alone_gets_the_same_error_as_in_a_pair(world):
    claim = world.acme_claim
    alone = world.acme.client.patch(
        f"/api/v1/claims/{claim.pk}/", {"patient": world.globex_patient.pk}, format="json"
    )
    paired, _ = _post(world, _claim_body(world, patient=world.globex_patient.pk))
    assert alone.status_code == paired.status_code == 400
    assert alone.json()["errors"]["patient"] == paired.json()["errors"]["patient"]
    assert "payer" not in paired.json()["errors"]


def test_a_malformed_id_is_refused_before_any_lookup(world):
    response, lookups = _post(world, _claim_body(world, patient="12x"))
    assert response.status_code == 400
    assert "patient" in response.json()["errors"]
    # The payer alone is left: looked up by itself, not with a patient.
    assert lookups == []
