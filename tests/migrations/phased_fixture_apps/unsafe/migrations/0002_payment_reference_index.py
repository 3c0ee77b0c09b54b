from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("unsafe", "0001_initial")]
    operations = [
        migrations.AddIndex("payment", models.Index(fields=["reference"], name="unsafe_payment_ref_idx")),
    ]
