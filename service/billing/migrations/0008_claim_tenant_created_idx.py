"""Expand: an index for the claim list ordered by `created_at`.

Without it, `?ordering=created_at` (v1) sorts every claim of the tenant. Built
CONCURRENTLY, so writers go on while it builds.
"""

from django.db import migrations, models

from phased_migrations.markers import Phase
from phased_migrations.operations import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False
    phase = Phase.EXPAND

    dependencies = [
        ("billing", "0004_claim_denial_reason_backfill"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="claim",
            index=models.Index(fields=["customer", "created_at"], name="claim_tenant_created_idx"),
        ),
    ]
