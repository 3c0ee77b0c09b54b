"""Fixtures of the claims API: two tenants with members and tokens, payers, patients, claims."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection
from knox.models import AuthToken
from rest_framework.test import APIClient

from billing.models import Claim, Customer, Membership, Patient, Payer, Role
from billing.services.claims import claim_submit
from billing.services.patients import patient_create

PASSWORD = "correct-horse-battery"


@dataclass
class Member:
    customer: Customer
    user: User
    token: str
    client: APIClient


@pytest.fixture(autouse=True)
def _fresh_throttles() -> None:
    # Throttle counters live in the database, which each test gets back empty;
    # the cache is cleared for anything else that keeps state there.
    cache.clear()


@pytest.fixture
def flushable_audit_trail(django_db_setup, django_db_blocker):
    """Lets the end-of-test flush of `transactional_db` TRUNCATE the append-only audit table.

    The guard honours no session switch, so the owner (the test connection)
    disables its TRUNCATE trigger for the test and enables it again after the
    flush. Request it before `transactional_db`."""
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("ALTER TABLE billing_auditevent DISABLE TRIGGER no_truncate")
    yield
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("ALTER TABLE billing_auditevent ENABLE TRIGGER no_truncate")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    # The production hasher is slow by design; a test user needs no such guard.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_member(customer: Customer, username: str, role: Role = Role.ADMIN) -> Member:
    user = User.objects.create_user(username=username, password=PASSWORD)
    Membership.objects.create(user=user, customer=customer, role=role)
    _, token = AuthToken.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return Member(customer=customer, user=user, token=token, client=client)


@pytest.fixture
def acme(db) -> Member:
    return make_member(Customer.objects.create(name="Acme Health"), "acme-admin")


@pytest.fixture
def globex(db) -> Member:
    return make_member(Customer.objects.create(name="Globex Clinic"), "globex-admin")


@pytest.fixture
def payers(db) -> list[Payer]:
    return [
        Payer.objects.create(code="AETNA", name="Aetna"),
        Payer.objects.create(code="CIGNA", name="Cigna"),
        Payer.objects.create(code="LEGACY", name="Legacy Mutual", is_active=False),
    ]


def add_patient(member: Member, last_name: str = "Doe") -> Patient:
    return patient_create(
        actor=member.user,
        customer=member.customer,
        first_name="Jane",
        last_name=last_name,
        date_of_birth=datetime.date(1980, 5, 17),
        member_id="M-1",
    )


def add_claim(
    member: Member, patient: Patient, payer: Payer, billed: str = "100.00", service_date: str = "2026-01-15"
) -> Claim:
    return claim_submit(
        actor=member.user,
        customer=member.customer,
        patient=patient,
        payer=payer,
        billed_amount=Decimal(billed),
        service_date=datetime.date.fromisoformat(service_date),
    )


@pytest.fixture
def new_patient():
    return add_patient


@pytest.fixture
def new_claim():
    return add_claim


@dataclass
class World:
    """Each tenant with a patient and a claim of its own."""

    acme: Member
    globex: Member
    acme_patient: Patient
    acme_claim: Claim
    globex_patient: Patient
    globex_claim: Claim
    payers: list[Payer]


@pytest.fixture
def world(acme: Member, globex: Member, payers: list[Payer]) -> World:
    acme_patient = add_patient(acme, "Adams")
    globex_patient = add_patient(globex, "Grant")
    return World(
        acme=acme,
        globex=globex,
        acme_patient=acme_patient,
        acme_claim=add_claim(acme, acme_patient, payers[0]),
        globex_patient=globex_patient,
        globex_claim=add_claim(globex, globex_patient, payers[1]),
        payers=payers,
    )


@pytest.fixture
def new_member(db):
    return make_member


@pytest.fixture(scope="session")
def live(postgres_url):
    """The API served by two gunicorn workers that recycle every three requests, as the application role."""
    from live_api import live_api

    with live_api(
        postgres_url,
        "rollguard_live",
        GUNICORN_WORKERS="2",
        GUNICORN_MAX_REQUESTS="3",
        API_THROTTLE_LOGIN="2/hour",
        API_THROTTLE_LOGIN_ACCOUNT="1000/hour",
    ) as api:
        yield api
