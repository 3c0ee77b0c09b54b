from django.db import migrations

from phased_migrations.operations import SetNotNull


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("safeops", "0003_bill_constraints")]
    operations = [SetNotNull("bill", "status", backfill="new", batch_size=100)]
