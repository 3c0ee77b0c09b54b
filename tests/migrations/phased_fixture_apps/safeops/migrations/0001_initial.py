from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            name="Payer", fields=[("id", models.BigAutoField(primary_key=True, serialize=False))]
        ),
        migrations.CreateModel(
            name="Bill",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("amount_cents", models.BigIntegerField()),
                ("status", models.TextField(null=True)),
            ],
        ),
    ]
