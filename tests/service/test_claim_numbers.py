"""Concurrent submissions of one tenant get distinct, consecutive claim numbers."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db import connection, connections

from billing.models import AuditEvent, Claim, Customer, Membership, Patient, Payer
from billing.services.claims import claim_submit

pytestmark = pytest.mark.integration

THREADS = 8
PER_THREAD = 5


def _tenant(name: str):
    customer = Customer.objects.create(name=name)
    user = User.objects.create(username=f"{name}-user")
    Membership.objects.create(user=user, customer=customer)
    patient = Patient.objects.create(
        customer=customer, first_name="A", last_name="B", date_of_birth="1990-01-01"
    )
    return customer, user, patient


def test_concurrent_submissions_get_consecutive_numbers(flushable_audit_trail, transactional_db):
    payer = Payer.objects.create(code="AETNA", name="Aetna")
    tenants = [_tenant("acme"), _tenant("globex")]
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def submit(customer, user, patient):
        try:
            barrier.wait()
            for _ in range(PER_THREAD):
                claim_submit(
                    actor=user,
                    customer=customer,
                    patient=patient,
                    payer=payer,
                    billed_amount=Decimal("10.00"),
                    service_date=datetime.date(2026, 1, 1),
                )
        except BaseException as error:  # handed to the main thread, which fails the test
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit, args=tenants[i % 2]) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    per_tenant = THREADS // 2 * PER_THREAD
    for customer, _, _ in tenants:
        numbers = sorted(Claim.objects.filter(customer=customer).values_list("number", flat=True))
        assert numbers == list(range(1, per_tenant + 1))
        customer.refresh_from_db()
        assert customer.last_claim_number == per_tenant
    assert AuditEvent.objects.filter(action="create").count() == THREADS * PER_THREAD


def test_a_counter_behind_the_claims_catches_up(flushable_audit_trail, transactional_db):
    """Rows inserted around the counter make the first number clash; the retry resyncs."""
    payer = Payer.objects.create(code="AETNA", name="Aetna")
    customer, user, patient = _tenant("acme")
    Claim.objects.create(
        customer=customer, number=1, patient=patient, payer=payer, billed_amount=5, service_date="2026-01-01"
    )
    claim = claim_submit(
        actor=user,
        customer=customer,
        patient=patient,
        payer=payer,
        billed_amount=Decimal("10.00"),
        service_date=datetime.date(2026, 1, 1),
    )
    assert claim.number == 2
    assert connection.in_atomic_block is False
