from django.db import migrations, models

from phased_migrations.operations import (
    AddCheckConstraintNotValid,
    AddForeignKeyNotValid,
    AddIndexConcurrently,
    ValidateConstraint,
)


class Migration(migrations.Migration):
    # Concurrent index builds cannot run in a transaction. Every operation here
    # checks the catalog first, so the migration can run again after a crash.
    atomic = False
    dependencies = [("safeops", "0002_bill_payer")]
    operations = [
        AddCheckConstraintNotValid(
            "bill",
            models.CheckConstraint(condition=models.Q(amount_cents__gte=0), name="safeops_bill_amount_gte_0"),
        ),
        ValidateConstraint("bill", "safeops_bill_amount_gte_0"),
        AddForeignKeyNotValid("bill", "payer", name="safeops_bill_payer_fk"),
        ValidateConstraint("bill", "safeops_bill_payer_fk"),
        AddIndexConcurrently("bill", models.Index(fields=["payer"], name="safeops_bill_payer_idx")),
    ]
