from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("claims", "0002_claim_number_unique")]
    operations = [migrations.AddField("claim", "memo", models.TextField(null=True))]
