"""Joins the claim list's index (0008) and the contract half of the denial-reason rename (0005).

No operations. Contract, because it needs 0005, which runs only once the
release that stopped writing `denial_reason` is the only one serving.
"""

from django.db import migrations

from phased_migrations.markers import Phase


class Migration(migrations.Migration):
    phase = Phase.CONTRACT

    dependencies = [
        ("billing", "0005_remove_claim_denial_reason"),
        ("billing", "0008_claim_tenant_created_idx"),
    ]

    operations = []
