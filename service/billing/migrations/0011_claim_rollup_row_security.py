"""Expand: the payer-summary rollup behind row-level security, the last step of the rollup (0006-0007).

The rollup is a line of its own that no other migration needs, so a release
can ship without it and a later one expand it onto a running database. It
needs 0010 (the roles and the policies of the other tenant tables) and 0007
(the rollup, backfilled). Until it is applied the service does not read the
rollup (`billing.selectors.claims`): its rows are not yet hidden from other
tenants. Idempotent: on a database migrated while 0010 still covered the
rollup, it replaces the same policies and grants.
"""

from django.db import migrations

from billing.migrations._database_roles import (
    DISABLE_ROLLUP_ROW_SECURITY,
    ENABLE_ROLLUP_ROW_SECURITY,
    grant_rollup_application_role,
    revoke_rollup_application_role,
)
from phased_migrations.markers import Phase


class Migration(migrations.Migration):
    phase = Phase.EXPAND

    dependencies = [
        ("billing", "0007_claim_rollup_backfill"),
        ("billing", "0010_roles_row_security"),
    ]

    operations = [
        migrations.RunSQL(ENABLE_ROLLUP_ROW_SECURITY, reverse_sql=DISABLE_ROLLUP_ROW_SECURITY),
        migrations.RunPython(grant_rollup_application_role, revoke_rollup_application_role),
    ]
