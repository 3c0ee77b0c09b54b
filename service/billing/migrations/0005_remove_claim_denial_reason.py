"""Contract: `Claim.denial_reason` becomes `denial_reason_text`, step 3 of 3.

Runs only once no pod of the previous release is left: drops the trigger and
the old column. DROP COLUMN takes an ACCESS EXCLUSIVE lock for a catalog
update only; `migrate_phase` bounds the wait with its lock timeout.
"""

from django.db import migrations

from billing.migrations._denial_reason_sync import CREATE_SYNC, DROP_SYNC
from phased_migrations.markers import Phase


class Migration(migrations.Migration):
    phase = Phase.CONTRACT

    dependencies = [
        ("billing", "0004_claim_denial_reason_backfill"),
    ]

    operations = [
        migrations.RunSQL(DROP_SYNC, reverse_sql=CREATE_SYNC),
        migrations.RemoveField(model_name="claim", name="denial_reason"),
    ]
