"""SQL of migrations 0010 and 0011: the audit guard, row-level security and the application role's grants."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from billing.tenancy import drop_row_security_sql, row_security_sql

AUDIT_TABLE = "billing_auditevent"

# Plain triggers with no escape hatch: pgtrigger's own triggers skip themselves
# when a session sets `pgtrigger.ignore`, which any role may do.
CREATE_AUDIT_GUARD = f"""
CREATE FUNCTION billing_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'Cannot % the append-only table %', lower(TG_OP), TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON {AUDIT_TABLE}
    FOR EACH ROW EXECUTE FUNCTION billing_audit_append_only();
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON {AUDIT_TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION billing_audit_append_only();
"""
DROP_AUDIT_GUARD = f"""
DROP TRIGGER IF EXISTS no_truncate ON {AUDIT_TABLE};
DROP TRIGGER IF EXISTS append_only ON {AUDIT_TABLE};
DROP FUNCTION IF EXISTS billing_audit_append_only();
"""

# The tables 0010 puts behind the tenant policy, as they were when it was written: a table
# added to `billing.tenancy.TENANT_TABLES` later gets the policy in its own migration (0011).
ROW_SECURITY_TABLES = ("billing_patient", "billing_claim", "billing_auditevent")
ENABLE_ROW_SECURITY = [sql for table in ROW_SECURITY_TABLES for sql in row_security_sql(table)]
DISABLE_ROW_SECURITY = [sql for table in ROW_SECURITY_TABLES for sql in drop_row_security_sql(table)]


def grant_sql(role: str, schema: str) -> list[str]:
    """Row access for the application role: no DDL (it owns nothing), the audit trail insert-only,
    migration history read-only; tables and sequences the owner creates later get the same."""
    return [
        f"GRANT USAGE ON SCHEMA {schema} TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
        f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON django_migrations FROM {role}",
        f"REVOKE UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES ON {AUDIT_TABLE} FROM {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE, SELECT ON SEQUENCES TO {role}",
    ]


def revoke_sql(role: str, schema: str) -> list[str]:
    return [
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} REVOKE ALL ON SEQUENCES FROM {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} REVOKE ALL ON TABLES FROM {role}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {role}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role}",
    ]


def _application_role(schema_editor: Any) -> tuple[str, str] | None:
    """(quoted role, quoted schema), or None when the application connects as the owner itself."""
    role = getattr(settings, "DATABASE_APPLICATION_ROLE", "")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT current_user, current_schema()")
        owner, schema = cursor.fetchone()
    if not role or role == owner:
        return None
    return schema_editor.quote_name(role), schema_editor.quote_name(schema)


def grant_application_role(apps: Any, schema_editor: Any) -> None:
    if found := _application_role(schema_editor):
        for statement in grant_sql(*found):
            schema_editor.execute(statement)


def revoke_application_role(apps: Any, schema_editor: Any) -> None:
    if found := _application_role(schema_editor):
        for statement in revoke_sql(*found):
            schema_editor.execute(statement)


# 0011: the payer-summary rollup (0006) behind the tenant policy, and the application role's
# rows of it (its triggers write the rollup as whoever wrote the claim).
ROLLUP_TABLE = "billing_claimrollup"
ROLLUP_STATE_TABLE = "billing_claimrollup_backfill"
ROLLUP_SEQUENCE = "billing_claimrollup_id_seq"
# A database migrated while 0010 still covered the rollup has its policies already: replace them.
ENABLE_ROLLUP_ROW_SECURITY = [
    *(sql for sql in drop_row_security_sql(ROLLUP_TABLE) if sql.startswith("DROP POLICY")),
    *row_security_sql(ROLLUP_TABLE),
]
DISABLE_ROLLUP_ROW_SECURITY = drop_row_security_sql(ROLLUP_TABLE)


def grant_rollup_application_role(apps: Any, schema_editor: Any) -> None:
    """The rows 0010 grants on every other table, whichever of 0006 and 0010 ran first."""
    if found := _application_role(schema_editor):
        role = found[0]
        schema_editor.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON {ROLLUP_TABLE}, {ROLLUP_STATE_TABLE} TO {role}"
        )
        schema_editor.execute(f"GRANT USAGE, SELECT ON SEQUENCE {ROLLUP_SEQUENCE} TO {role}")


def revoke_rollup_application_role(apps: Any, schema_editor: Any) -> None:
    if found := _application_role(schema_editor):
        role = found[0]
        schema_editor.execute(f"REVOKE ALL ON {ROLLUP_TABLE}, {ROLLUP_STATE_TABLE} FROM {role}")
        schema_editor.execute(f"REVOKE ALL ON SEQUENCE {ROLLUP_SEQUENCE} FROM {role}")
