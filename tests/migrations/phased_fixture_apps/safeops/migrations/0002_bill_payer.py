import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("safeops", "0001_initial")]
    operations = [
        migrations.AddField(
            "bill",
            "payer",
            models.ForeignKey(
                "safeops.payer",
                null=True,
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
            ),
        ),
    ]
