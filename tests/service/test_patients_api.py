"""The patients endpoints."""

from __future__ import annotations

import pytest

from billing.models import Patient

pytestmark = pytest.mark.integration


def test_register_read_edit_and_delete_a_patient(acme):
    created = acme.client.post(
        "/api/v1/patients/",
        {"first_name": "Ann", "last_name": "Lee", "date_of_birth": "1970-03-04", "member_id": "A1"},
    )
    assert created.status_code == 201
    url = f"/api/v1/patients/{created.json()['id']}/"
    assert acme.client.get(url).json()["last_name"] == "Lee"
    assert acme.client.patch(url, {"last_name": "Leigh"}).json()["last_name"] == "Leigh"
    assert acme.client.delete(url).status_code == 204
    assert not Patient.objects.exists()


def test_a_patient_with_claims_cannot_be_deleted(world):
    response = world.acme.client.delete(f"/api/v1/patients/{world.acme_patient.pk}/")
    assert response.status_code == 400
    assert response.json()["code"] == "in_use"
    assert Patient.objects.filter(pk=world.acme_patient.pk).exists()


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("", ["Adams", "Baker"]),
        ("last_name=ba", ["Baker"]),
        ("member_id=M-1", ["Adams", "Baker"]),
        ("ordering=-last_name", ["Baker", "Adams"]),
        ("date_of_birth=1980-05-17", ["Adams", "Baker"]),
    ],
)
def test_patient_filters(world, new_patient, query, names):
    new_patient(world.acme, "Baker")
    results = world.acme.client.get(f"/api/v1/patients/?{query}").json()["results"]
    assert [row["last_name"] for row in results] == names
