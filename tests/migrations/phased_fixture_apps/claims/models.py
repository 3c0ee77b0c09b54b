from django.db import models


class Claim(models.Model):
    customer_id = models.BigIntegerField()
    number = models.CharField(max_length=32)
    amount_cents = models.BigIntegerField(default=0)
    memo = models.TextField(null=True)  # noqa: DJ001 - NULL means "never written", as in the claims table

    class Meta:
        app_label = "claims"
        constraints = [
            models.UniqueConstraint(fields=["customer_id", "number"], name="claims_claim_number_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}/{self.number}"
