"""Expand: the payer summary's rollup, step 1 of 2.

Creates `billing_claimrollup` and installs the triggers that count every claim
written from now on, by either release (see `_claim_rollup_sql.py`). One
transaction: CREATE TRIGGER waits for running writers and holds new ones only
until it commits (catalog changes, no scan). The previous release never reads
the table, so nothing changes for it.

It follows the expand half of the denial-reason rename (0004), not its
contract (0005): the rollup needs nothing 0005 removes, so a database still
waiting for 0005 can expand both at once. The rollup (0006, 0007 and 0011) is
a line no other migration needs: a release may ship without it, and a later
one expand it onto the running database.
"""

from django.db import migrations, models

from billing.migrations._claim_rollup import CREATE_TRIGGERS, DROP_TRIGGERS
from phased_migrations.markers import Phase


class Migration(migrations.Migration):
    phase = Phase.EXPAND

    dependencies = [
        ("billing", "0004_claim_denial_reason_backfill"),
    ]

    operations = [
        migrations.CreateModel(
            name="ClaimRollup",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("service_date", models.DateField()),
                ("claims", models.BigIntegerField(default=0)),
                ("denied", models.BigIntegerField(default=0)),
                ("billed", models.DecimalField(decimal_places=2, default=0, max_digits=16)),
                ("paid", models.DecimalField(decimal_places=2, default=0, max_digits=16)),
                (
                    "customer",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=models.deletion.PROTECT,
                        related_name="+",
                        to="billing.customer",
                    ),
                ),
                (
                    "payer",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=models.deletion.PROTECT,
                        related_name="+",
                        to="billing.payer",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("customer", "payer", "service_date"), name="claim_rollup_key"
                    )
                ],
            },
        ),
        migrations.RunSQL(CREATE_TRIGGERS, reverse_sql=DROP_TRIGGERS),
    ]
