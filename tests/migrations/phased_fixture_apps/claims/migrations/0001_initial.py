from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            name="Claim",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("customer_id", models.BigIntegerField()),
                ("number", models.CharField(max_length=32)),
                ("amount_cents", models.BigIntegerField(default=0)),
            ],
        ),
    ]
