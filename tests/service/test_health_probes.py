"""The Kubernetes probes: live always, ready only with a reachable, fully migrated database."""

from __future__ import annotations

import copy

import pytest
from django.db import connection, connections
from django.db.backends.postgresql.base import DatabaseWrapper
from rest_framework.test import APIClient

from config.health.probes import code_migrations
from config.health.views import StartupView
from localdb import free_port

pytestmark = pytest.mark.integration


@pytest.fixture
def client():
    return APIClient()


@pytest.fixture
def unreachable_database(settings):
    """A database alias pointing at a port nothing listens on.

    Made as a connection object rather than a settings entry, which Django's
    test case would refuse as a database this test did not declare."""
    alias = "unreachable"
    settings_dict = {**copy.deepcopy(connections["default"].settings_dict), "PORT": free_port()}
    connections[alias] = DatabaseWrapper(settings_dict, alias)
    settings.HEALTH_DATABASE_ALIAS = alias
    yield alias
    connections[alias].close()
    del connections[alias]


def test_live_answers_without_a_database(client):
    response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_when_every_migration_is_applied(db, client):
    response = client.get("/health/ready")
    assert response.status_code == 200, response.json()
    assert response.json() == {"status": "ok"}


def test_not_ready_when_the_database_is_unreachable(db, client, unreachable_database):
    response = client.get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    # The error's type only: the driver's message names the host and port.
    assert body["reasons"] == ["database unreachable: OperationalError"]
    assert "127.0.0.1" not in response.content.decode()


def test_not_ready_while_a_migration_of_this_code_is_unapplied(db, client):
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM django_migrations WHERE app = 'billing' AND name = '0002_claim_number_unique'"
        )
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "reasons": ["unapplied migrations: billing.0002_claim_number_unique"],
    }


def forget_migration(name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = 'billing' AND name = %s", [name])


def test_ready_while_a_contract_migration_waits_for_the_rollout_to_prove_itself(db, client):
    forget_migration("0005_remove_claim_denial_reason")

    response = client.get("/health/ready")

    assert response.status_code == 200, response.json()


def test_not_ready_while_an_expand_migration_of_a_phased_rename_is_unapplied(db, client):
    forget_migration("0004_claim_denial_reason_backfill")
    forget_migration("0005_remove_claim_denial_reason")

    response = client.get("/health/ready")

    assert response.status_code == 503
    assert response.json()["reasons"] == ["unapplied migrations: billing.0004_claim_denial_reason_backfill"]


def test_the_code_graph_is_classified_once_and_each_probe_reads_only_the_applied_set(
    db, client, django_assert_max_num_queries
):
    phases = code_migrations()
    assert not phases[("billing", "0005_remove_claim_denial_reason")].expand
    assert phases[("billing", "0003_claim_denial_reason_text")].expand
    assert phases[("billing", "0002_claim_number_unique")].expand
    # SAVEPOINT and RELEASE come from the test's own transaction.
    with django_assert_max_num_queries(4) as captured:
        assert client.get("/health/ready").status_code == 200
    selects = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT")]
    assert selects == ["SELECT app, name FROM django_migrations"]
    assert code_migrations() is phases


def test_still_ready_when_a_newer_release_applied_more_migrations(db, client):
    # Expand-before-rollout: the old code serves a schema a newer release expanded.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO django_migrations (app, name, applied) "
            "VALUES ('billing', '0099_from_the_future', now())"
        )
    assert client.get("/health/ready").status_code == 200


def test_startup_waits_for_the_database_once(db, client, settings, unreachable_database, monkeypatch):
    monkeypatch.setattr(StartupView, "started", False)
    assert client.get("/health/startup").status_code == 503
    settings.HEALTH_DATABASE_ALIAS = "default"
    assert client.get("/health/startup").status_code == 200
    settings.HEALTH_DATABASE_ALIAS = unreachable_database
    # Once started, a later outage is readiness's business, not startup's.
    assert client.get("/health/startup").status_code == 200


def test_probes_need_no_token_and_echo_a_request_id(client):
    response = client.get("/health/live", HTTP_AUTHORIZATION="Token bogus", HTTP_X_REQUEST_ID="probe-1")
    assert response.status_code == 200
    assert response["X-Request-ID"] == "probe-1"


def test_probes_answer_whatever_host_the_kubelet_sends(db, client):
    # The kubelet probes the pod IP, which ALLOWED_HOSTS cannot list.
    assert client.get("/health/ready", HTTP_HOST="10.244.1.7:8000").status_code == 200
    assert client.get("/health/live", HTTP_HOST="10.244.1.7:8000").status_code == 200


def test_a_request_without_an_id_gets_a_fresh_one(client):
    first = client.get("/health/live")["X-Request-ID"]
    second = client.get("/health/live", HTTP_X_REQUEST_ID="bad id with spaces")["X-Request-ID"]
    assert len(first) == 32
    assert len(second) == 32
    assert first != second
