"""The triggers that keep `billing_claimrollup` exact, and the backfill that fills it.

Migrations 0006 and 0007 use this module; it must keep working for them, so
the application never imports it.

Database triggers rather than the services: during a phased release the
previous release keeps writing claims after expand has created the rollup, and
it knows nothing about it; bulk loads (`seed_demo`'s one `INSERT ... SELECT`)
bypass the services too. A trigger counts every writer, in the writer's own
transaction. They are statement-level triggers with transition tables, so a
bulk insert of a million claims is one grouped upsert, not a million.

Rows that existed before the triggers are the backfill's (0007), in batches of
ids. `billing_claimrollup_backfill` holds `install_max`, the highest claim id
when the triggers were installed (no claim was being written then: CREATE
TRIGGER waits for the writers), and `done_upto`, how far the backfill got. A
trigger skips rows in `(done_upto, install_max]`: their current state is
counted when the backfill reaches them. A backfill batch first locks its rows
`FOR SHARE`, so a writer that changed a row before the batch has committed
(and was skipped, the batch seeing its result), and a writer that changes it
after sees the batch's `done_upto` and counts the change. Once `done_upto`
reaches `install_max` that range is empty and every change counts.

Deltas of one statement are summed per key and applied in key order, so two
writers never take rollup rows in opposite orders.
"""

# ruff: noqa: S608 (every name interpolated into SQL here is a constant of this module)
from __future__ import annotations

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper

BATCH_SIZE = 5000

ROLLUP = "billing_claimrollup"
STATE = "billing_claimrollup_backfill"
_COLUMNS = "customer_id, payer_id, service_date, claims, denied, billed, paid"

# Each source yields signed rows: `sign` is +1 for a row as it is now, -1 for a row as it was.
_SOURCES = {
    "insert": "SELECT n.*, 1 AS sign FROM new_rows n",
    "update": "SELECT n.*, 1 AS sign FROM new_rows n UNION ALL SELECT o.*, -1 AS sign FROM old_rows o",
    "delete": "SELECT o.*, -1 AS sign FROM old_rows o",
}
_REFERENCING = {
    "insert": "REFERENCING NEW TABLE AS new_rows",
    "update": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "delete": "REFERENCING OLD TABLE AS old_rows",
}

UPSERT = f"""
INSERT INTO {ROLLUP} ({_COLUMNS})
SELECT customer_id, payer_id, service_date, sum(sign),
       coalesce(sum(sign) FILTER (WHERE status = 'denied'), 0), sum(sign * billed_amount), sum(sign * paid_amount)
FROM ({{rows}}) AS changed
GROUP BY customer_id, payer_id, service_date
HAVING sum(sign) <> 0 OR sum(sign * billed_amount) <> 0 OR sum(sign * paid_amount) <> 0
    OR coalesce(sum(sign) FILTER (WHERE status = 'denied'), 0) <> 0
ORDER BY customer_id, payer_id, service_date
ON CONFLICT (customer_id, payer_id, service_date) DO UPDATE SET
    claims = {ROLLUP}.claims + EXCLUDED.claims,
    denied = {ROLLUP}.denied + EXCLUDED.denied,
    billed = {ROLLUP}.billed + EXCLUDED.billed,
    paid = {ROLLUP}.paid + EXCLUDED.paid
"""


def _function(event: str) -> str:
    rows = (
        f"SELECT c.* FROM ({_SOURCES[event]}) AS c, {STATE} AS s "
        "WHERE s.id = 1 AND NOT (c.id > s.done_upto AND c.id <= s.install_max)"
    )
    return f"""
CREATE FUNCTION billing_claim_rollup_{event}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{UPSERT.format(rows=rows).strip()};
    RETURN NULL;
END
$$;
CREATE TRIGGER billing_claim_rollup_{event} AFTER {event.upper()} ON billing_claim
{_REFERENCING[event]} FOR EACH STATEMENT EXECUTE FUNCTION billing_claim_rollup_{event}();
"""


# The state table and the triggers, then the backfill's range, all in one
# transaction: CREATE TRIGGER's lock keeps writers out until it commits.
CREATE_TRIGGERS = (
    f"""
CREATE TABLE {STATE} (
    id integer PRIMARY KEY CHECK (id = 1),
    done_upto bigint NOT NULL,
    install_max bigint NOT NULL
);
"""
    + "".join(_function(event) for event in _SOURCES)
    + f"INSERT INTO {STATE} (id, done_upto, install_max) "
    "SELECT 1, 0, coalesce(max(id), 0) FROM billing_claim;"
)

DROP_TRIGGERS = (
    "".join(
        f"DROP TRIGGER IF EXISTS billing_claim_rollup_{event} ON billing_claim;"
        f"DROP FUNCTION IF EXISTS billing_claim_rollup_{event}();"
        for event in _SOURCES
    )
    + f"DROP TABLE IF EXISTS {STATE};"
)

# One backfill batch, in one transaction: lock the state row (one backfill at a
# time), lock the batch's claims, add their current state, move the mark.
LOCK_STATE = f"SELECT done_upto, install_max FROM {STATE} WHERE id = 1 FOR UPDATE"
LOCK_BATCH = (
    "SELECT count(*) FROM (SELECT 1 FROM billing_claim WHERE id > %s AND id <= %s FOR SHARE) AS locked"
)
ADD_BATCH = UPSERT.format(rows="SELECT c.*, 1 AS sign FROM billing_claim c WHERE c.id > %s AND c.id <= %s")
MOVE_MARK = f"UPDATE {STATE} SET done_upto = %s WHERE id = 1"


def backfill_batch(connection: BaseDatabaseWrapper, *, batch_size: int = BATCH_SIZE) -> bool:
    """Add the next batch of pre-trigger claims to the rollup, in one transaction; False once none is left."""
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute(LOCK_STATE)
        done_upto, install_max = cursor.fetchone()
        if done_upto >= install_max:
            return False
        upto = min(done_upto + batch_size, install_max)
        cursor.execute(LOCK_BATCH, [done_upto, upto])
        cursor.execute(ADD_BATCH, [done_upto, upto])
        cursor.execute(MOVE_MARK, [upto])
    return True


def backfill_rollup(connection: BaseDatabaseWrapper, *, batch_size: int = BATCH_SIZE) -> int:
    """Run batches until the rollup covers every claim; returns how many batches ran."""
    batches = 0
    while backfill_batch(connection, batch_size=batch_size):
        batches += 1
    return batches
