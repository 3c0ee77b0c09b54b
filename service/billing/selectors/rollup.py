"""The payer-summary rollup compared with a full aggregate of the claims it counts."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connections, transaction

# Every (tenant, payer, service date) where the rollup and the claims disagree;
# a rollup row whose counts are all zero equals no claims at all.
_DIFFERENCES = """
WITH actual AS (
    SELECT customer_id, payer_id, service_date, count(*) AS claims,
           count(*) FILTER (WHERE status = 'denied') AS denied,
           sum(billed_amount) AS billed, sum(paid_amount) AS paid
    FROM billing_claim GROUP BY customer_id, payer_id, service_date
), kept AS (
    SELECT customer_id, payer_id, service_date, claims, denied, billed, paid
    FROM billing_claimrollup WHERE claims <> 0 OR denied <> 0 OR billed <> 0 OR paid <> 0
)
SELECT customer_id, payer_id, service_date,
       a.claims, k.claims, a.denied, k.denied, a.billed, k.billed, a.paid, k.paid
FROM actual a FULL JOIN kept k USING (customer_id, payer_id, service_date)
WHERE (a.claims, a.denied, a.billed, a.paid) IS DISTINCT FROM (k.claims, k.denied, k.billed, k.paid)
ORDER BY customer_id, payer_id, service_date
"""
_KEYS = "SELECT count(*) FROM billing_claimrollup"
_BACKFILL = "SELECT done_upto, install_max FROM billing_claimrollup_backfill WHERE id = 1"


@dataclass(frozen=True)
class RollupDifference:
    """One key where the rollup disagrees with the claims: (claims, denied, billed, paid), actual and kept."""

    customer_id: int
    payer_id: int
    service_date: str
    actual: tuple[object, ...]
    kept: tuple[object, ...]


@dataclass(frozen=True)
class RollupReport:
    keys: int
    backfill_done_upto: int
    backfill_install_max: int
    differences: list[RollupDifference]

    @property
    def backfilled(self) -> bool:
        return self.backfill_done_upto >= self.backfill_install_max


def rollup_report(*, using: str = DEFAULT_DB_ALIAS) -> RollupReport:
    """The rollup against a full aggregate of `billing_claim`, in one snapshot (a scan of every claim)."""
    connection = connections[using]
    outermost = not connection.in_atomic_block
    with transaction.atomic(using=using), connection.cursor() as cursor:
        if outermost:
            # One snapshot for the state, the rollup and the claims alike.
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute(_BACKFILL)
        row = cursor.fetchone()
        done_upto, install_max = row if row else (0, 0)
        cursor.execute(_KEYS)
        (keys,) = cursor.fetchone()
        cursor.execute(_DIFFERENCES)
        differences = [
            RollupDifference(
                customer_id=r[0],
                payer_id=r[1],
                service_date=r[2].isoformat(),
                actual=(r[3] or 0, r[5] or 0, r[7] or 0, r[9] or 0),
                kept=(r[4] or 0, r[6] or 0, r[8] or 0, r[10] or 0),
            )
            for r in cursor.fetchall()
        ]
    return RollupReport(
        keys=keys, backfill_done_upto=done_upto, backfill_install_max=install_max, differences=differences
    )
