"""Expand: `Claim.denial_reason` becomes `denial_reason_text`, step 1 of 3.

Adds the new column, gives the old one a database default so the new release
(which no longer names it) can insert, and installs the trigger that keeps the
two columns equal for rows either release writes. All three are catalog
changes: no table rewrite, no scan. They run in one transaction, so no row is
written between the new column appearing and the trigger guarding it.
"""

from django.db import migrations, models

from billing.migrations._denial_reason_sync import CREATE_SYNC, DROP_SYNC
from phased_migrations.markers import Phase


class Migration(migrations.Migration):
    phase = Phase.EXPAND

    dependencies = [
        ("billing", "0002_claim_number_unique"),
    ]

    operations = [
        migrations.AddField(
            model_name="claim",
            name="denial_reason_text",
            field=models.CharField(blank=True, db_default="", default="", max_length=500),
        ),
        # A default rather than DROP NOT NULL: the previous release never reads
        # a NULL, and the trigger overwrites the default on every insert anyway.
        migrations.AlterField(
            model_name="claim",
            name="denial_reason",
            field=models.CharField(blank=True, db_default="", default="", max_length=500),
        ),
        migrations.RunSQL(CREATE_SYNC, reverse_sql=DROP_SYNC),
    ]
