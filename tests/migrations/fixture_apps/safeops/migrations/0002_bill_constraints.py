import django.db.models.deletion
from django.db import migrations, models

from phased_migrations.operations import (
    AddCheckConstraintNotValid,
    AddForeignKeyNotValid,
    AddIndexConcurrently,
    ValidateConstraint,
)


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("safeops", "0001_initial")]
    operations = [
        AddCheckConstraintNotValid(
            "bill",
            models.CheckConstraint(condition=models.Q(amount_cents__gte=0), name="safeops_bill_amount_gte_0"),
        ),
        ValidateConstraint("bill", "safeops_bill_amount_gte_0"),
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
        AddForeignKeyNotValid("bill", "payer", name="safeops_bill_payer_fk"),
        ValidateConstraint("bill", "safeops_bill_payer_fk"),
        AddIndexConcurrently("bill", models.Index(fields=["payer"], name="safeops_bill_payer_idx")),
    ]
