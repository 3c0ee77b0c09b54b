"""Tenant B never sees or touches tenant A's rows, whatever the route and method."""

from __future__ import annotations

import pytest

from billing.models import AuditEvent, Claim, Patient

pytestmark = pytest.mark.integration

CLAIM_BODY = {"billed_amount": "1.00", "service_date": "2026-01-01"}
PATIENT_BODY = {"first_name": "X", "last_name": "Y", "date_of_birth": "1990-01-01"}

# Every route that names an object of a tenant, with every method it allows.
ID_ROUTES = [
    ("get", "/api/v1/claims/{claim}/", None),
    ("patch", "/api/v1/claims/{claim}/", {"billed_amount": "1.00"}),
    ("put", "/api/v1/claims/{claim}/", CLAIM_BODY),
    ("delete", "/api/v1/claims/{claim}/", None),
    ("post", "/api/v1/claims/{claim}/transition/", {"status": "accepted"}),
    ("get", "/api/v1/patients/{patient}/", None),
    ("patch", "/api/v1/patients/{patient}/", {"last_name": "Z"}),
    ("put", "/api/v1/patients/{patient}/", PATIENT_BODY),
    ("delete", "/api/v1/patients/{patient}/", None),
    ("get", "/api/v1/audit-events/{event}/", None),
]


@pytest.mark.parametrize(("method", "route", "body"), ID_ROUTES)
def test_another_tenants_object_is_not_found(world, method, route, body):
    acme_event = AuditEvent.objects.filter(customer=world.acme.customer).first()
    url = route.format(claim=world.acme_claim.pk, patient=world.acme_patient.pk, event=acme_event.pk)
    before = (Claim.objects.get(pk=world.acme_claim.pk), Patient.objects.get(pk=world.acme_patient.pk))

    response = getattr(world.globex.client, method)(url, body)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    claim, patient = Claim.objects.get(pk=world.acme_claim.pk), Patient.objects.get(pk=world.acme_patient.pk)
    assert (claim.status, claim.billed_amount, patient.last_name) == (
        before[0].status,
        before[0].billed_amount,
        before[1].last_name,
    )


@pytest.mark.parametrize(("method", "route", "body"), ID_ROUTES)
def test_reaching_for_another_tenants_object_is_audited_in_the_callers_tenant_as_not_found(
    world, method, route, body
):
    acme_event = AuditEvent.objects.filter(customer=world.acme.customer).first()
    url = route.format(claim=world.acme_claim.pk, patient=world.acme_patient.pk, event=acme_event.pk)
    getattr(world.globex.client, method)(url, body)
    refused = AuditEvent.objects.get(action="denied")
    assert refused.customer == world.globex.customer
    assert refused.actor == world.globex.user
    assert refused.outcome == "not_found"
    assert refused.object_type in ("claim", "patient", "audit_event")


def _refusal_rows(member):
    return list(
        AuditEvent.objects.filter(customer=member.customer, action="denied").values_list(
            "action", "object_type", "outcome"
        )
    )


def test_a_foreign_id_and_a_missing_id_leave_the_same_row(world):
    """The trail of the caller's tenant cannot tell which ids exist elsewhere."""
    assert world.globex.client.get(f"/api/v1/claims/{world.acme_claim.pk}/").status_code == 404
    foreign = _refusal_rows(world.globex)
    assert world.globex.client.get("/api/v1/claims/999999/").status_code == 404
    both = _refusal_rows(world.globex)
    assert both == foreign * 2 == [("denied", "claim", "not_found")] * 2
    assert not AuditEvent.objects.filter(customer=world.acme.customer, action="denied").exists()


@pytest.mark.parametrize(
    "route", ["/api/v1/claims/", "/api/v1/patients/", "/api/v1/audit-events/", "/api/v1/payers/summary/"]
)
def test_lists_hold_only_the_callers_rows(world, route):
    acme_rows = world.acme.client.get(route).json()["results"]
    globex_rows = world.globex.client.get(route).json()["results"]
    assert acme_rows
    assert globex_rows
    assert not {str(r) for r in acme_rows} & {str(r) for r in globex_rows}


def test_claim_list_ids_are_the_callers_claims(world):
    ids = {row["id"] for row in world.globex.client.get("/api/v1/claims/").json()["results"]}
    assert ids == {world.globex_claim.pk}


def test_a_claim_cannot_name_another_tenants_patient(world):
    response = world.globex.client.post(
        "/api/v1/claims/",
        {"patient": world.acme_patient.pk, "payer": world.payers[0].pk, **CLAIM_BODY},
    )
    assert response.status_code == 400
    assert "patient" in response.json()["errors"]
    assert Claim.objects.count() == 2


@pytest.mark.parametrize(
    "field", [{"customer": 1}, {"number": 7}, {"status": "paid"}, {"paid_amount": "5.00"}]
)
def test_owner_and_workflow_fields_in_a_body_are_refused(world, field):
    body = {"patient": world.acme_patient.pk, "payer": world.payers[0].pk, **CLAIM_BODY, **field}
    response = world.acme.client.post("/api/v1/claims/", body)
    assert response.status_code == 400
    assert set(response.json()["errors"]) == set(field)
    assert Claim.objects.count() == 2


def test_payers_are_shared_reference_data(world):
    codes = {row["code"] for row in world.globex.client.get("/api/v1/payers/").json()["results"]}
    assert codes == {"AETNA", "CIGNA", "LEGACY"}
