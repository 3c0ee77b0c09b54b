from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("unsafe", "0002_payment_reference_index")]
    operations = [
        migrations.AddConstraint(
            "payment",
            models.CheckConstraint(
                condition=models.Q(amount_cents__gte=0), name="unsafe_payment_amount_gte_0"
            ),
        ),
    ]
