"""The claims domain: tenants, their members, payers, patients, claims and the audit trail.

Every row that belongs to a tenant carries `customer`; queries reach those rows
only through the selectors, which scope by the caller's customer first.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class Customer(models.Model):
    """A tenant: one healthcare provider organisation billing its claims."""

    name = models.CharField(max_length=200, unique=True)
    # The last claim number handed out; taken under a row lock so numbers are
    # consecutive per tenant without a table-wide MAX() scan.
    last_claim_number = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    ADMIN = "admin", "Administrator"
    BILLER = "biller", "Biller"
    VIEWER = "viewer", "Viewer"


class Membership(models.Model):
    """Which tenant a login belongs to, and what it may do there.

    A profile beside Django's stock user, not a custom user model: knox, the
    auth backends and `createsuperuser` keep working unchanged, and a login
    without a membership simply has no tenant and no access to the API.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.BILLER)

    def __str__(self) -> str:
        return f"{self.user_id}@{self.customer_id} ({self.role})"

    @property
    def can_write(self) -> bool:
        return self.role in (Role.ADMIN, Role.BILLER)


class Payer(models.Model):
    """An insurance payer. Global reference data shared by every tenant:
    Aetna is the same Aetna for all providers, and claims point at it."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Patient(models.Model):
    """A patient of one tenant. Protected health information: never logged."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="patients", db_index=False)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    member_id = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["customer", "last_name", "first_name"], name="patient_tenant_name_idx"),
            models.Index(fields=["customer", "member_id"], name="patient_tenant_member_idx"),
        ]

    def __str__(self) -> str:
        return f"patient {self.pk}"


class ClaimStatus(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    ACCEPTED = "accepted", "Accepted"
    PAID = "paid", "Paid"
    DENIED = "denied", "Denied"


class Claim(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="claims", db_index=False)
    number = models.PositiveBigIntegerField()
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="claims")
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="claims", db_index=False)
    billed_amount = models.DecimalField(max_digits=12, decimal_places=2)
    paid_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    service_date = models.DateField()
    status = models.CharField(max_length=16, choices=ClaimStatus.choices, default=ClaimStatus.SUBMITTED)
    # Free text from the payer's remittance. Named `_text` to leave room for
    # the structured adjustment reason code beside it; the API still calls it
    # `denial_reason`. The database default lets the previous release, which
    # never names this column, insert during the rename (migrations 0003-0005).
    denial_reason_text = models.CharField(max_length=500, blank=True, default="", db_default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # Each list filter leads with the tenant, then the filtered column, then
        # the date most lists sort or range on; payer_summary groups on the
        # payer index; billed_min/max and ordering by amount use the last.
        # The (customer, number) unique constraint lives in its own migration
        # so it can be rebuilt concurrently.
        indexes = [
            models.Index(fields=["customer", "service_date"], name="claim_tenant_date_idx"),
            models.Index(fields=["customer", "status", "service_date"], name="claim_tenant_status_idx"),
            models.Index(fields=["customer", "payer", "service_date"], name="claim_tenant_payer_idx"),
            models.Index(fields=["customer", "billed_amount"], name="claim_tenant_billed_idx"),
            models.Index(fields=["customer", "created_at"], name="claim_tenant_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(billed_amount__gt=0), name="claim_billed_positive"),
            models.CheckConstraint(condition=Q(paid_amount__gte=0), name="claim_paid_not_negative"),
            models.CheckConstraint(
                condition=Q(paid_amount__lte=F("billed_amount")), name="claim_paid_within_billed"
            ),
            models.UniqueConstraint(fields=["customer", "number"], name="claim_number_unique_per_customer"),
        ]

    def __str__(self) -> str:
        return f"claim {self.customer_id}-{self.number}"


class ClaimRollup(models.Model):
    """Claims, denials and amounts per tenant, payer and service date.

    Kept exact by database triggers on `billing_claim`, in the transaction of
    every write (migrations 0006-0007, `billing/migrations/_claim_rollup.py`; 0011
    puts it behind row-level security), so the payer summary reads at most one
    row per payer and day, however many claims a tenant has. Never written by
    the application.
    """

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+", db_index=False)
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="+", db_index=False)
    service_date = models.DateField()
    claims = models.BigIntegerField(default=0)
    denied = models.BigIntegerField(default=0)
    billed = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    paid = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    class Meta:
        # The triggers' ON CONFLICT target, and the summary's index: tenant,
        # then payer (grouped on), then the date ranged on.
        constraints = [
            models.UniqueConstraint(fields=["customer", "payer", "service_date"], name="claim_rollup_key"),
        ]

    def __str__(self) -> str:
        return f"rollup {self.customer_id}/{self.payer_id}/{self.service_date}"


class AuditAction(models.TextChoices):
    CREATE = "create", "Create"
    READ = "read", "Read"
    UPDATE = "update", "Update"
    DELETE = "delete", "Delete"
    LIST = "list", "List"
    DENIED = "denied", "Denied"


class AuditOutcome(models.TextChoices):
    SUCCESS = "success", "Success"
    DENIED = "denied", "Denied"
    # A miss on an id: the same whether the id exists in another tenant or nowhere.
    NOT_FOUND = "not_found", "Not found"


class AuditEvent(models.Model):
    """One access to PHI or billing data. Append-only: plain triggers of the
    schema's owner refuse UPDATE, DELETE and TRUNCATE whoever asks, and the
    application role holds only INSERT and SELECT (migration 0010)."""

    occurred_at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+", db_index=False)
    action = models.CharField(max_length=16, choices=AuditAction.choices)
    object_type = models.CharField(max_length=32)
    object_id = models.CharField(max_length=64, blank=True, default="")
    outcome = models.CharField(max_length=16, choices=AuditOutcome.choices, default=AuditOutcome.SUCCESS)
    request_id = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(fields=["customer", "-occurred_at"], name="audit_tenant_time_idx"),
            models.Index(fields=["customer", "object_type", "object_id"], name="audit_tenant_object_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type} {self.object_id} ({self.outcome})"


class RateCounter(models.Model):
    """Requests one throttle key made in one fixed window, counted by one serving thread.

    The count of a key is the sum over its shards, so every worker and pod
    shares it and a recycled worker forgets nothing; each thread bumps only its
    own row, so concurrent requests never wait on each other's row lock.
    """

    key = models.CharField(max_length=80)
    shard = models.CharField(max_length=80)
    window = models.BigIntegerField()
    hits = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "shard"], name="ratecounter_key_shard_unique")]
        indexes = [models.Index(fields=["expires_at"], name="ratecounter_expires_idx")]

    def __str__(self) -> str:
        return f"{self.key} {self.shard}: {self.hits}"
