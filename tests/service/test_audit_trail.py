"""Every access to patients and claims leaves one audit row; the table is append-only."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from billing.models import AuditEvent, Role

pytestmark = pytest.mark.integration


def _events():
    return list(AuditEvent.objects.order_by("id").values_list("action", "object_type", "outcome"))


@pytest.mark.parametrize("resource", ["claims", "patients"])
def test_lists_write_one_list_row_per_request(world, resource):
    before = AuditEvent.objects.count()
    world.acme.client.get(f"/api/v1/{resource}/")
    added = AuditEvent.objects.order_by("id")[before:]
    assert [(e.action, e.object_type, e.object_id) for e in added] == [("list", resource[:-1], "")]


def test_each_patient_access_is_recorded_once(acme):
    client = acme.client
    created = client.post(
        "/api/v1/patients/", {"first_name": "Ann", "last_name": "Lee", "date_of_birth": "1970-03-04"}
    ).json()
    url = f"/api/v1/patients/{created['id']}/"
    client.get(url)
    client.patch(url, {"member_id": "X9"})
    client.put(url, {"first_name": "Ann", "last_name": "Lee", "date_of_birth": "1970-03-04"})
    client.delete(url)
    assert _events() == [
        ("create", "patient", "success"),
        ("read", "patient", "success"),
        ("update", "patient", "success"),
        ("update", "patient", "success"),
        ("delete", "patient", "success"),
    ]
    assert set(AuditEvent.objects.values_list("object_id", flat=True)) == {str(created["id"])}


def test_each_claim_access_is_recorded_once(world):
    before = AuditEvent.objects.count()
    url = f"/api/v1/claims/{world.acme_claim.pk}/"
    world.acme.client.get(url)
    world.acme.client.patch(url, {"billed_amount": "50.00"})
    world.acme.client.post(f"{url}transition/", {"status": "accepted"})
    assert _events()[before:] == [
        ("read", "claim", "success"),
        ("update", "claim", "success"),
        ("update", "claim", "success"),
    ]


def test_a_refused_permission_is_recorded_as_denied(world, new_member):
    viewer = new_member(world.acme.customer, "acme-viewer", Role.VIEWER)
    assert viewer.client.get(f"/api/v1/claims/{world.acme_claim.pk}/").status_code == 200
    response = viewer.client.patch(f"/api/v1/claims/{world.acme_claim.pk}/", {"billed_amount": "1.00"})
    assert response.status_code == 403
    assert "biller" in response.json()["detail"]
    denied = AuditEvent.objects.get(outcome="denied")
    assert (denied.actor, denied.action, denied.object_id) == (
        viewer.user,
        "denied",
        str(world.acme_claim.pk),
    )


def test_a_failed_write_leaves_no_audit_row(world):
    before = AuditEvent.objects.count()
    world.acme.client.post(f"/api/v1/claims/{world.acme_claim.pk}/transition/", {"status": "paid"})
    assert AuditEvent.objects.count() == before


def test_only_administrators_read_the_audit_trail(world, new_member):
    biller = new_member(world.acme.customer, "acme-biller", Role.BILLER)
    assert biller.client.get("/api/v1/audit-events/").status_code == 403
    events = world.acme.client.get("/api/v1/audit-events/?action=create&object_type=claim").json()
    assert [e["object_id"] for e in events["results"]] == [str(world.acme_claim.pk)]
    assert events["results"][0]["actor"] == "acme-admin"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE billing_auditevent SET outcome = 'success'",
        "DELETE FROM billing_auditevent",
        "TRUNCATE billing_auditevent",
        "TRUNCATE billing_auditevent CASCADE",
    ],
)
def test_the_database_refuses_to_change_the_audit_trail(world, statement):
    before = _events()
    with connection.cursor() as cursor:
        # Fire the deferred foreign-key checks of the fixtures' inserts now:
        # PostgreSQL refuses TRUNCATE on a table with pending trigger events.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with pytest.raises(DatabaseError, match="Cannot"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert _events() == before


def test_the_orm_cannot_change_the_audit_trail_either(world):
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(customer=world.acme.customer).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.update(request_id="forged")
    assert not AuditEvent.objects.filter(request_id="forged").exists()
