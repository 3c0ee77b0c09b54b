"""Attacks on the live API: two gunicorn workers that recycle, the application role's own database user."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import psycopg
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _post(url: str, body: dict, headers: dict | None = None) -> int:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Connection": "close", **(headers or {})},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_login_guesses_are_counted_across_workers_and_recycles_whatever_x_forwarded_for_says(live):
    statuses = [
        _post(
            f"{live.url}/api/v1/auth/login/",
            {"username": "acme-admin", "password": f"guess-{i}"},
            {"X-Forwarded-For": f"203.0.113.{i}"},
        )
        for i in range(6)
    ]
    # Two wrong answers (the rate), then refusals: the counter is one for both
    # workers (each recycled after 3 requests), and a forged header is not an address.
    assert statuses == [400] * 2 + [429] * 4
    right = _post(f"{live.url}/api/v1/auth/login/", {"username": "acme-admin", "password": "rollguard-demo"})
    assert right == 429


@pytest.fixture
def app_db(live):
    with psycopg.connect(live.roles.application_url, autocommit=True) as conn:
        yield conn


AUDIT_TAMPERING = [
    "UPDATE billing_auditevent SET outcome = 'success'",
    "DELETE FROM billing_auditevent",
    "TRUNCATE billing_auditevent",
    "ALTER TABLE billing_auditevent DISABLE TRIGGER append_only",
    "ALTER TABLE billing_auditevent DISABLE TRIGGER ALL",
    "DROP TRIGGER append_only ON billing_auditevent",
    "ALTER TABLE billing_auditevent NO FORCE ROW LEVEL SECURITY",
    "CREATE TABLE forged (id int)",
]


@pytest.mark.parametrize("statement", AUDIT_TAMPERING)
def test_the_application_role_cannot_change_the_audit_trail_or_the_schema(app_db, statement):
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        app_db.execute(statement)


def test_no_session_switch_makes_the_audit_guard_step_aside(live):
    # As the owner, who may UPDATE the table: the guard refuses whatever pgtrigger.ignore says.
    with psycopg.connect(live.roles.migration_url) as conn:
        conn.execute(
            "INSERT INTO billing_auditevent (occurred_at, actor_id, customer_id, action, object_type,"
            " object_id, outcome, request_id)"
            " SELECT now(), user_id, customer_id, 'read', 'claim', '1', 'success', ''"
            " FROM billing_membership LIMIT 1"
        )
        conn.execute("SELECT set_config('pgtrigger.ignore', '{append_only,no_truncate}', true)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute("UPDATE billing_auditevent SET outcome = 'success'")


def test_the_application_role_sees_only_the_tenant_its_transaction_names(app_db):
    assert app_db.execute("SELECT count(*) FROM billing_claim").fetchone() == (0,)
    with app_db.transaction():
        customer = app_db.execute("SELECT min(id) FROM billing_customer").fetchone()[0]
        app_db.execute("SELECT set_config('rollguard.customer', %s, true)", (str(customer),))
        tenants = app_db.execute("SELECT DISTINCT customer_id FROM billing_claim").fetchall()
    assert tenants == [(customer,)]
    assert app_db.execute("SELECT count(*) FROM billing_claim").fetchone() == (0,)
