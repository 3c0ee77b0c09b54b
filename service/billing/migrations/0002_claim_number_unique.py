"""The per-tenant claim-number constraint, built without blocking writes.

A plain ADD CONSTRAINT ... UNIQUE builds its index under an ACCESS EXCLUSIVE
lock, stalling every claim read and write for the whole build. The index is
built CONCURRENTLY instead and then attached as the constraint, which is a
catalog update only.
"""

from django.db import migrations, models

from phased_migrations.operations import add_unique_constraint_concurrently


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("billing", "0001_initial"),
    ]

    operations = add_unique_constraint_concurrently(
        "claim",
        models.UniqueConstraint(fields=("customer", "number"), name="claim_number_unique_per_customer"),
    )
