"""Expand: the application role's grants, row-level security on patients, claims and the audit trail,
an audit trail guard no session can switch off, and the shared throttle counters.

Runs as the schema's owner (`MIGRATION_DATABASE_URL`). The previous release
keeps working throughout: it never names the new table, and while it still
connects as the owner the owner's own policy shows it every row.
"""

import pgtrigger.migrations
from django.db import migrations, models

from billing.migrations._database_roles import (
    CREATE_AUDIT_GUARD,
    DISABLE_ROW_SECURITY,
    DROP_AUDIT_GUARD,
    ENABLE_ROW_SECURITY,
    grant_application_role,
    revoke_application_role,
)
from phased_migrations.markers import Phase


class Migration(migrations.Migration):
    phase = Phase.EXPAND

    dependencies = [
        ("billing", "0009_merge_rollup_and_rename"),
    ]

    operations = [
        migrations.CreateModel(
            name="RateCounter",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("key", models.CharField(max_length=80)),
                ("shard", models.CharField(max_length=80)),
                ("window", models.BigIntegerField()),
                ("hits", models.PositiveIntegerField(default=0)),
                ("expires_at", models.DateTimeField()),
            ],
            options={
                "indexes": [models.Index(fields=["expires_at"], name="ratecounter_expires_idx")],
                "constraints": [
                    models.UniqueConstraint(fields=("key", "shard"), name="ratecounter_key_shard_unique")
                ],
            },
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="outcome",
            field=models.CharField(
                choices=[("success", "Success"), ("denied", "Denied"), ("not_found", "Not found")],
                default="success",
                max_length=16,
            ),
        ),
        pgtrigger.migrations.RemoveTrigger(model_name="auditevent", name="append_only"),
        pgtrigger.migrations.RemoveTrigger(model_name="auditevent", name="no_truncate"),
        migrations.RunSQL(CREATE_AUDIT_GUARD, reverse_sql=DROP_AUDIT_GUARD),
        migrations.RunSQL(ENABLE_ROW_SECURITY, reverse_sql=DISABLE_ROW_SECURITY),
        migrations.RunPython(grant_application_role, revoke_application_role),
    ]
