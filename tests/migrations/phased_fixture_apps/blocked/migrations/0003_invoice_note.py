from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("blocked", "0002_remove_legacy_code")]
    operations = [migrations.AddField("invoice", "note", models.TextField(null=True))]
