"""Expand: `Claim.denial_reason` becomes `denial_reason_text`, step 2 of 3.

Copies the rows written before the trigger existed, in batches of primary
keys, each batch its own short transaction, so no row lock is held for long
and the previous release keeps writing. Running it again copies nothing twice.
"""

from django.db import migrations

from phased_migrations.markers import Phase

BATCH_SIZE = 5000

_COPY = """
UPDATE billing_claim SET denial_reason_text = denial_reason
WHERE id >= %s AND id < %s AND denial_reason_text IS DISTINCT FROM denial_reason
"""


def copy_denial_reasons(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM billing_claim")
        first, last = cursor.fetchone()
    if first is None:
        return
    for start in range(first, last + 1, BATCH_SIZE):
        # The migration is not atomic, so each UPDATE commits on its own.
        with connection.cursor() as cursor:
            cursor.execute(_COPY, [start, start + BATCH_SIZE])


class Migration(migrations.Migration):
    atomic = False
    phase = Phase.EXPAND

    dependencies = [
        ("billing", "0003_claim_denial_reason_text"),
    ]

    operations = [
        migrations.RunPython(copy_denial_reasons, migrations.RunPython.noop, elidable=True),
    ]
