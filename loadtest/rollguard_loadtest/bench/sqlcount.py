"""SQL statements per request, counted by PostgreSQL itself with pg_stat_statements.

Only statements count (`track_utility = off`): BEGIN, COMMIT and SET are
transaction plumbing, not the query shape an endpoint is designed around.
Nor do the statements PostgreSQL runs on its own behalf once a statement ends
(pg_stat_statements sees them as top level): foreign-key checks
(`SELECT 1 FROM ONLY ... FOR KEY SHARE OF x`) and what triggers run (the
payer-summary rollup's upsert). They are part of the write the client sent.
pg_stat_statements keeps the text of a statement's first call after a reset,
and a foreign-key check's is stored either normalized (`SELECT $2 FROM ONLY
...`) or as sent (`SELECT 1 ...`) depending on how that call was planned:
both forms are left out.
"""

from __future__ import annotations

import psycopg

from localdb import LocalPostgres

# Only the rollup's triggers write this table (service/billing/migrations/_claim_rollup.py);
# their upsert is the one statement naming it unquoted (Django quotes its names).
ROLLUP_TABLE = "billing_claimrollup"


def enable(server: LocalPostgres) -> None:
    """Preload pg_stat_statements (a restart) and create the extension in the maintenance database."""
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
        conn.execute("ALTER SYSTEM SET pg_stat_statements.track_utility = off")
        conn.execute("ALTER SYSTEM SET pg_stat_statements.max = 10000")
    server.stop()
    server.start()
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")


def reset(admin_url: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_statements_reset()")


def statements(admin_url: str, database: str) -> int:
    """Statements executed in `database` since the last reset."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT coalesce(sum(s.calls), 0) FROM pg_stat_statements s "
            "JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = %s "
            "AND s.query NOT LIKE 'SELECT %% FROM ONLY %%FOR KEY SHARE OF x' "
            "AND s.query NOT LIKE %s",
            (database, f"INSERT INTO {ROLLUP_TABLE} %"),
        ).fetchone()
    return int(row[0]) if row else 0
