"""The previous release's data access, run against a database after `expand`.

It uses the historical Claim model of claims 0001_initial: exactly the model
the release before the expand migrations was built with.
"""

from __future__ import annotations

from django.db import connections
from django.db.migrations.loader import MigrationLoader


def exercise_claims(alias: str) -> None:
    apps = MigrationLoader(connections[alias]).project_state(("claims", "0001_initial")).apps
    claims = apps.get_model("claims", "Claim").objects.using(alias)

    created = claims.create(customer_id=424242, number="PREV-1", amount_cents=1200)
    claims.filter(pk=created.pk).update(amount_cents=1300)
    assert claims.get(pk=created.pk).amount_cents == 1300
    claims.bulk_create([claims.model(customer_id=424242, number=f"PREV-{i}") for i in range(2, 5)])
    assert list(claims.filter(customer_id=424242).order_by("number").values_list("number", flat=True)) == [
        "PREV-1",
        "PREV-2",
        "PREV-3",
        "PREV-4",
    ]
    assert claims.filter(customer_id=424242).delete()[0] == 4
