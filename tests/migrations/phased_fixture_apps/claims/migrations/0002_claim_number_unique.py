from django.db import migrations, models

from phased_migrations.operations import add_unique_constraint_concurrently


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("claims", "0001_initial")]
    operations = add_unique_constraint_concurrently(
        "claim", models.UniqueConstraint(fields=["customer_id", "number"], name="claims_claim_number_uniq")
    )
