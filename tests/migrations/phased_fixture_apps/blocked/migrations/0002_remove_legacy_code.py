from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("blocked", "0001_initial")]
    operations = [migrations.RemoveField("invoice", "legacy_code")]
