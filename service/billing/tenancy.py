"""Row-level security: the tables that hold one tenant's rows, and the setting that names the tenant.

Every table listed here gets `FORCE ROW LEVEL SECURITY` and a policy that shows
the application role only rows whose `customer_id` equals the transaction's
`rollguard.customer` setting. The request sets it from the authenticated
customer (see `billing.api.authentication`); without it the role sees no rows.
To put a new tenant table behind the wall, add it here and apply
`row_security_sql` to it in its migration.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.db import connection, transaction

#: The transaction-local setting the policies compare `customer_id` with.
TENANT_SETTING = "rollguard.customer"

#: Tables holding one tenant's rows, each with a `customer_id` column.
TENANT_TABLES = ("billing_patient", "billing_claim", "billing_claimrollup", "billing_auditevent")

_CURRENT_TENANT = f"NULLIF(current_setting('{TENANT_SETTING}', true), '')::bigint"


def row_security_sql(table: str) -> list[str]:
    """Statements that put `table` behind the tenant policy (the owner keeps one of its own)."""
    return [
        f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY',
        f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY',
        f'CREATE POLICY tenant_isolation ON "{table}" '
        f"USING (customer_id = {_CURRENT_TENANT}) WITH CHECK (customer_id = {_CURRENT_TENANT})",
        # Policies name roles by OID: CURRENT_USER is the owner running the migration.
        f'CREATE POLICY owner_maintenance ON "{table}" TO CURRENT_USER USING (true) WITH CHECK (true)',
    ]


def drop_row_security_sql(table: str) -> list[str]:
    return [
        f'DROP POLICY IF EXISTS owner_maintenance ON "{table}"',
        f'DROP POLICY IF EXISTS tenant_isolation ON "{table}"',
        f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY',
        f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY',
    ]


def set_tenant_sql(column: str) -> str:
    """A select-list expression that sets the tenant to `column` for the rest of the transaction."""
    return f"set_config('{TENANT_SETTING}', COALESCE({column}::text, ''), true)"


@contextlib.contextmanager
def tenant_scope(customer_id: int) -> Iterator[None]:
    """A transaction in which the application role sees `customer_id`'s rows (for code outside a request)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, true)", [TENANT_SETTING, str(customer_id)])
        yield
