"""Row-level security is a second wall: a query that forgets the tenant still sees only the caller's rows."""

from __future__ import annotations

import pytest
from django.db import connection

from billing.api import claims as claims_api
from billing.models import AuditEvent, Claim, Customer, Patient
from billing.tenancy import TENANT_TABLES, tenant_scope
from localdb import APPLICATION_ROLE

pytestmark = pytest.mark.integration


@pytest.fixture
def as_application_role(db):
    """The rest of the test's transaction runs with the application role's privileges."""
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {APPLICATION_ROLE}")


def test_an_unscoped_query_inside_a_request_returns_no_foreign_rows(world, as_application_role, monkeypatch):
    # A bug that drops the tenant filter from the claims selector.
    monkeypatch.setattr(
        claims_api,
        "claim_list",
        lambda customer: Claim.objects.select_related("patient", "payer").order_by("-number"),
    )

    response = world.globex.client.get("/api/v1/claims/")

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [world.globex_claim.pk]


def test_without_a_tenant_the_application_role_sees_no_rows(world, as_application_role):
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('rollguard.customer', '', true)")
    assert Claim.objects.count() == Patient.objects.count() == AuditEvent.objects.count() == 0


def test_the_application_role_cannot_write_a_row_into_another_tenant(world, as_application_role):
    from django.db import DatabaseError, transaction

    with (
        tenant_scope(world.globex.customer.pk),
        pytest.raises(DatabaseError, match="row-level security"),
        transaction.atomic(),
    ):
        Patient.objects.create(
            customer=world.acme.customer, first_name="A", last_name="B", date_of_birth="1990-01-01"
        )


def test_every_table_with_a_tenant_column_is_behind_the_wall(db):
    from django.apps import apps

    with_customer = {
        model._meta.db_table
        for model in apps.get_app_config("billing").get_models()
        if any(f.name == "customer" and f.related_model is Customer for f in model._meta.fields)
        and model._meta.db_table != "billing_membership"
    }
    assert with_customer == set(TENANT_TABLES)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relrowsecurity AND relforcerowsecurity AND relname = ANY(%s)",
            [list(TENANT_TABLES)],
        )
        assert {row[0] for row in cursor.fetchall()} == set(TENANT_TABLES)
