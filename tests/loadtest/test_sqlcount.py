"""The benchmark's SQL counter on a real PostgreSQL with pg_stat_statements preloaded."""

import os
import tempfile
from pathlib import Path

import psycopg
import pytest

import localdb
from rollguard_loadtest.bench import sqlcount

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def counted_server():
    # Not under pytest's tmp_path: its 0700 parents would shut out the unprivileged server user.
    with tempfile.TemporaryDirectory(prefix="rollguard-pgss-") as folder:
        os.chmod(folder, 0o755)
        with localdb.running(Path(folder) / "data") as server:
            sqlcount.enable(server)
            yield server


def test_statements_are_counted_per_database_without_transaction_plumbing(counted_server):
    measured = counted_server.create_database("measured")
    other = counted_server.create_database("other")
    sqlcount.reset(counted_server.url())

    with psycopg.connect(measured) as conn:  # psycopg opens a transaction: BEGIN and COMMIT are not counted
        conn.execute("CREATE TABLE t (n int)")
        conn.execute("INSERT INTO t VALUES (1), (2)")
        conn.execute("SELECT count(*) FROM t").fetchone()
    with psycopg.connect(other) as conn:
        conn.execute("SELECT 1").fetchone()

    assert sqlcount.statements(counted_server.url(), "measured") == 2  # CREATE is a utility statement
    assert sqlcount.statements(counted_server.url(), "other") == 1
    sqlcount.reset(counted_server.url())
    assert sqlcount.statements(counted_server.url(), "measured") == 0


def test_foreign_key_checks_and_rollup_triggers_are_not_counted(counted_server):
    measured = counted_server.create_database("keys")
    with psycopg.connect(measured) as conn:
        conn.execute("CREATE TABLE parent (id int PRIMARY KEY)")
        conn.execute("CREATE TABLE child (parent_id int REFERENCES parent (id))")
        conn.execute("CREATE TABLE billing_claimrollup (n int)")
        conn.execute(
            "CREATE FUNCTION roll() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN INSERT INTO billing_claimrollup VALUES (1); RETURN NULL; END $$"
        )
        conn.execute("CREATE TRIGGER roll AFTER INSERT ON child FOR EACH STATEMENT EXECUTE FUNCTION roll()")
        conn.execute("INSERT INTO parent VALUES (1)")
    sqlcount.reset(counted_server.url())
    with psycopg.connect(measured) as conn:
        conn.execute("INSERT INTO child VALUES (1)")
    assert sqlcount.statements(counted_server.url(), "keys") == 1
    sqlcount.reset(counted_server.url())
