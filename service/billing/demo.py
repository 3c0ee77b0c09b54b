"""Demo data: two tenants with members, the payer directory, patients and claims.

Idempotent: tenants, users and payers are matched by name; patients and claims
are topped up to the requested counts. Claims are inserted by one
`generate_series` statement per tenant, so 100,000 of them take seconds.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from knox.models import AuthToken

from billing.models import Claim, Customer, Membership, Patient, Payer, Role

TENANTS = ("Acme Health", "Globex Clinic")
PAYERS = (
    ("AETNA", "Aetna"),
    ("BCBS", "Blue Cross Blue Shield"),
    ("CIGNA", "Cigna"),
    ("HUMANA", "Humana"),
    ("MEDICARE", "Medicare"),
    ("MEDICAID", "Medicaid"),
    ("UHC", "UnitedHealthcare"),
    ("LEGACY", "Legacy Mutual (closed)"),
)
FIRST_NAMES = ("Ada", "Ben", "Cleo", "Dan", "Eve", "Finn", "Gus", "Hana", "Ivo", "Jo", "Kai", "Lea")
LAST_NAMES = (
    "Adams",
    "Baker",
    "Clark",
    "Diaz",
    "Evans",
    "Fox",
    "Gray",
    "Hill",
    "Ito",
    "Jones",
    "King",
    "Lopez",
)

# Columns of one generated claim; `g` runs over the new claim numbers. Statuses
# cycle 3 submitted, 2 accepted, 3 paid, 2 denied in every ten.
_INSERT_CLAIMS = """
INSERT INTO billing_claim (customer_id, number, patient_id, payer_id, billed_amount, paid_amount,
                           service_date, status, denial_reason_text, created_at, updated_at)
SELECT %(customer)s, g,
       (%(patients)s::bigint[])[1 + g %% cardinality(%(patients)s::bigint[])],
       (%(payers)s::bigint[])[1 + g %% cardinality(%(payers)s::bigint[])],
       billed,
       CASE WHEN g %% 10 BETWEEN 5 AND 7 THEN round(billed * 0.8, 2) ELSE 0 END,
       %(today)s::date - (g %% 365)::int,
       CASE WHEN g %% 10 <= 2 THEN 'submitted' WHEN g %% 10 <= 4 THEN 'accepted'
            WHEN g %% 10 <= 7 THEN 'paid' ELSE 'denied' END,
       CASE WHEN g %% 10 >= 8 THEN 'Service not covered by plan' ELSE '' END,
       now(), now()
FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g,
     LATERAL (SELECT (25 + (g * 37) %% 4975)::numeric(12, 2) + 0.50 AS billed) AS amount
"""


@dataclass(frozen=True)
class SeededTenant:
    name: str
    token: str


def _username(tenant: str, role: str) -> str:
    return f"{tenant.split()[0].lower()}-{role}"


def seed_payers() -> list[Payer]:
    payers = []
    for code, name in PAYERS:
        payer, _ = Payer.objects.update_or_create(
            code=code, defaults={"name": name, "is_active": code != "LEGACY"}
        )
        payers.append(payer)
    return payers


def seed_members(customer: Customer, *, password: str) -> dict[str, object]:
    users = {}
    user_model = get_user_model()
    for role in Role:
        user, created = user_model.objects.get_or_create(username=_username(customer.name, role.value))
        if created or not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
        Membership.objects.update_or_create(user=user, defaults={"customer": customer, "role": role})
        users[role.value] = user
    return users


def seed_patients(customer: Customer, *, count: int) -> list[int]:
    existing = Patient.objects.filter(customer=customer).count()
    Patient.objects.bulk_create(
        Patient(
            customer=customer,
            first_name=FIRST_NAMES[i % len(FIRST_NAMES)],
            last_name=LAST_NAMES[(i // len(FIRST_NAMES)) % len(LAST_NAMES)],
            date_of_birth=datetime.date(1940 + i % 70, 1 + i % 12, 1 + i % 28),
            member_id=f"M{customer.pk:03d}{i:06d}",
        )
        for i in range(existing, count)
    )
    return list(Patient.objects.filter(customer=customer).order_by("id").values_list("id", flat=True)[:count])


def seed_claims(customer: Customer, *, count: int, patients: list[int], payers: list[int]) -> int:
    """Top the tenant's claims up to `count`; returns how many were added."""
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        missing = count - Claim.objects.filter(customer=customer).count()
        if missing <= 0:
            return 0
        first = locked.last_claim_number + 1
        last = locked.last_claim_number + missing
        with connection.cursor() as cursor:
            cursor.execute(
                _INSERT_CLAIMS,
                {
                    "customer": customer.pk,
                    "patients": patients,
                    "payers": payers,
                    "today": datetime.date.today(),
                    "first": first,
                    "last": last,
                },
            )
        Customer.objects.filter(pk=customer.pk).update(last_claim_number=last)
    # Fresh planner statistics and visibility map after a bulk load, so counts
    # can use index-only scans. VACUUM cannot run inside a transaction (as in a
    # test); ANALYZE alone still gives the planner its statistics there.
    with connection.cursor() as cursor:
        cursor.execute(
            "ANALYZE billing_claim" if connection.in_atomic_block else "VACUUM ANALYZE billing_claim"
        )
    return missing


def seed_demo(*, claims: int, patients: int, password: str) -> list[SeededTenant]:
    payer_ids = [p.pk for p in seed_payers() if p.is_active]
    seeded = []
    for name in TENANTS:
        customer, _ = Customer.objects.get_or_create(name=name)
        users = seed_members(customer, password=password)
        patient_ids = seed_patients(customer, count=patients)
        seed_claims(customer, count=claims, patients=patient_ids, payers=payer_ids)
        _, token = AuthToken.objects.create(user=users[Role.ADMIN.value])
        seeded.append(SeededTenant(name=name, token=token))
    return seeded
