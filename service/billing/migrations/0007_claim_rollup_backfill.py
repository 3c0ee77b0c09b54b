"""Expand: the payer summary's rollup, step 2 of 2.

Adds the claims written before the triggers existed, in batches of ids, each
batch its own short transaction that locks only its own rows, so writers of
other claims never wait and writers of the batch's claims wait one batch at
most. Running it again adds nothing twice: the batches resume from the mark.
"""

from django.db import migrations

from billing.migrations._claim_rollup import backfill_rollup
from phased_migrations.markers import Phase


def backfill(apps, schema_editor):
    backfill_rollup(schema_editor.connection)


class Migration(migrations.Migration):
    atomic = False
    phase = Phase.EXPAND

    dependencies = [
        ("billing", "0006_claim_rollup"),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
