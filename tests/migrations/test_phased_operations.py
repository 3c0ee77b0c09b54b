"""The safe operations on real PostgreSQL: no blocked writers, retries, recovery, re-runs."""

from __future__ import annotations

import threading
import time

import pytest
from phased_writer import Writer, fill_claims

pytestmark = pytest.mark.integration

LOCK_TIMEOUT = 0.5


@pytest.fixture
def claims(project_factory):
    project = project_factory("claims")
    project.migrate("claims", "0001")
    return project


def unique_state(project) -> dict:
    """What the catalog says about the claim-number key, and what was recorded as applied."""
    return {
        "constraints": project.sql(
            "SELECT conname, contype, convalidated FROM pg_constraint "
            "WHERE conrelid = 'claims_claim'::regclass AND contype = 'u'"
        ),
        "indexes": project.sql(
            "SELECT c.relname, i.indisvalid, i.indisunique FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = 'claims_claim'::regclass ORDER BY 1"
        ),
        "applied": project.sql("SELECT app, name FROM django_migrations WHERE app = 'claims' ORDER BY name"),
    }


def test_unique_constraint_is_built_while_a_writer_keeps_inserting(claims):
    with claims.connect() as conn:
        fill_claims(conn, 200_000)

    with Writer(claims.url) as writer:
        time.sleep(0.2)
        began = time.monotonic()
        result = claims.phase("expand", "--lock-timeout", f"{int(LOCK_TIMEOUT * 1000)}ms")
        ended = time.monotonic()

    assert result.returncode == 0, result.report
    assert writer.errors == []
    assert writer.writes_between(began, ended) > 20
    assert writer.longest_stall < LOCK_TIMEOUT
    assert unique_state(claims)["constraints"] == [("claims_claim_number_uniq", "u", True)]
    assert ("claims_claim_number_uniq", True, True) in unique_state(claims)["indexes"]


def test_ddl_blocked_by_a_long_transaction_is_retried_until_the_blocker_ends(claims):
    claims.migrate("claims", "0002")
    release = threading.Event()

    def long_transaction() -> None:
        with claims.connect() as conn, conn.transaction():
            conn.execute("SELECT count(*) FROM claims_claim")
            release.wait(10)

    blocker = threading.Thread(target=long_transaction)
    blocker.start()
    time.sleep(0.2)
    timer = threading.Timer(1.5, release.set)
    timer.start()
    with Writer(claims.url) as writer:
        result = claims.phase(
            "expand", "--lock-timeout", f"{int(LOCK_TIMEOUT * 1000)}ms", "--retries", "6", "--backoff", "0.2"
        )
    blocker.join()

    assert result.returncode == 0, result.report
    [applied] = result.report["applied"]
    assert applied["name"] == "0003_claim_memo"
    assert applied["attempts"] > 1
    assert applied["lockTimeouts"] == applied["attempts"] - 1
    assert writer.errors == []
    # The queued ALTER TABLE makes later statements queue behind it; lock_timeout bounds that wait.
    assert writer.longest_stall < LOCK_TIMEOUT + 0.25
    assert claims.sql(
        "SELECT 1 FROM information_schema.columns WHERE table_name = 'claims_claim' AND column_name = 'memo'"
    )


def test_ddl_gives_up_when_the_blocker_outlasts_every_retry(claims):
    claims.migrate("claims", "0002")
    with claims.connect() as conn, conn.transaction():
        conn.execute("SELECT count(*) FROM claims_claim")

        result = claims.phase("expand", "--lock-timeout", "100ms", "--retries", "2", "--backoff", "0.05")

    assert result.returncode == 1
    assert "still blocked by lock_timeout=100ms after 3 attempts" in result.report["error"]
    assert result.report["applied"] == []


def test_a_failed_build_on_duplicates_names_the_keys_and_leaves_no_invalid_index(claims):
    with claims.connect() as conn:
        fill_claims(conn, 1000)
        conn.execute(
            "INSERT INTO claims_claim (customer_id, number, amount_cents) VALUES (7, 'CLM-7', 7), (7, 'CLM-7', 7)"
        )

    result = claims.phase("expand")

    assert result.returncode == 1
    assert "customer_id=7, number='CLM-7' (3 rows)" in result.report["error"]
    assert "amount_cents" not in result.report["error"]
    assert unique_state(claims)["indexes"] == [("claims_claim_pkey", True, True)]

    claims.sql(
        "DELETE FROM claims_claim a USING claims_claim b "
        "WHERE a.customer_id = b.customer_id AND a.number = b.number AND a.id > b.id"
    )
    assert claims.phase("expand").returncode == 0
    assert unique_state(claims)["constraints"] == [("claims_claim_number_uniq", "u", True)]


def _invalid_index_left_by_a_killed_build(project) -> None:
    project.sql(
        "INSERT INTO claims_claim (customer_id, number, amount_cents) VALUES (1, 'dup', 0), (1, 'dup', 0)"
    )
    with pytest.raises(Exception, match="could not create unique index"):
        project.sql(
            'CREATE UNIQUE INDEX CONCURRENTLY "claims_claim_number_uniq" ON claims_claim (customer_id, number)'
        )
    project.sql("DELETE FROM claims_claim WHERE number = 'dup'")


def _index_built(project) -> None:
    project.sql(
        'CREATE UNIQUE INDEX CONCURRENTLY "claims_claim_number_uniq" ON claims_claim (customer_id, number)'
    )


def _constraint_attached(project) -> None:
    _index_built(project)
    project.sql(
        'ALTER TABLE claims_claim ADD CONSTRAINT "claims_claim_number_uniq" UNIQUE USING INDEX "claims_claim_number_uniq"'
    )


@pytest.mark.parametrize(
    "crash",
    [_invalid_index_left_by_a_killed_build, _index_built, _constraint_attached],
    ids=lambda f: f.__name__,
)
def test_expand_rerun_after_a_crash_at_any_statement_ends_in_the_same_state(project_factory, claims, crash):
    reference = project_factory("claims")
    reference.migrate("claims", "0001")
    assert reference.phase("expand").returncode == 0

    crash(claims)
    result = claims.phase("expand")

    assert result.returncode == 0, result.report
    assert unique_state(claims) == unique_state(reference)


def bill_state(project) -> dict:
    return {
        "constraints": project.sql(
            "SELECT conname, contype, convalidated FROM pg_constraint "
            "WHERE conrelid = 'safeops_bill'::regclass AND contype IN ('c', 'f', 'u') ORDER BY 1"
        ),
        "indexes": project.sql(
            "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = 'safeops_bill'::regclass ORDER BY 1"
        ),
        "not_null": project.sql(
            "SELECT attname, attnotnull FROM pg_attribute WHERE attrelid = 'safeops_bill'::regclass "
            "AND attnum > 0 AND NOT attisdropped ORDER BY 1"
        ),
        "statuses": project.sql("SELECT status, count(*) FROM safeops_bill GROUP BY 1 ORDER BY 1"),
        "applied": project.sql("SELECT name FROM django_migrations WHERE app = 'safeops' ORDER BY name"),
    }


@pytest.fixture
def bills(project_factory):
    project = project_factory("safeops")
    project.migrate("safeops", "0001")
    project.sql("INSERT INTO safeops_payer (id) VALUES (1), (2)")
    project.sql(
        "INSERT INTO safeops_bill (amount_cents, status) "
        "SELECT g, CASE WHEN g % 3 = 0 THEN NULL ELSE 'sent' END FROM generate_series(1, 1000) AS g"
    )
    return project


def test_expand_and_contract_apply_the_safe_operations(bills):
    expand = bills.phase("expand")
    contract = bills.phase("contract")

    assert [a["name"] for a in expand.report["applied"]] == ["0002_bill_payer", "0003_bill_constraints"]
    assert [a["name"] for a in contract.report["applied"]] == ["0004_bill_status_not_null"]
    state = bill_state(bills)
    assert state["constraints"] == [
        ("safeops_bill_amount_gte_0", "c", True),
        ("safeops_bill_payer_fk", "f", True),
    ]
    assert state["indexes"] == [("safeops_bill_payer_idx", True), ("safeops_bill_pkey", True)]
    assert ("status", True) in state["not_null"]
    assert state["statuses"] == [("new", 333), ("sent", 667)]


def test_not_valid_constraints_check_new_writes_before_validation(bills):
    bills.phase("expand")

    with pytest.raises(Exception, match="safeops_bill_amount_gte_0"):
        bills.sql("INSERT INTO safeops_bill (amount_cents) VALUES (-1)")
    with pytest.raises(Exception, match="safeops_bill_payer_fk"):
        bills.sql("INSERT INTO safeops_bill (amount_cents, payer_id) VALUES (1, 99)")


CHECK = "safeops_bill_status_notnull_check"
SAFEOPS_CRASHES = {
    "check_added": [f"ALTER TABLE safeops_bill ADD CONSTRAINT {CHECK} CHECK (status IS NOT NULL) NOT VALID"],
    "half_backfilled": [
        f"ALTER TABLE safeops_bill ADD CONSTRAINT {CHECK} CHECK (status IS NOT NULL) NOT VALID",
        "UPDATE safeops_bill SET status = 'new' WHERE id IN (SELECT id FROM safeops_bill WHERE status IS NULL LIMIT 100)",
    ],
    "validated": [
        f"ALTER TABLE safeops_bill ADD CONSTRAINT {CHECK} CHECK (status IS NOT NULL) NOT VALID",
        "UPDATE safeops_bill SET status = 'new' WHERE status IS NULL",
        f"ALTER TABLE safeops_bill VALIDATE CONSTRAINT {CHECK}",
    ],
    "set_not_null": [
        f"ALTER TABLE safeops_bill ADD CONSTRAINT {CHECK} CHECK (status IS NOT NULL) NOT VALID",
        "UPDATE safeops_bill SET status = 'new' WHERE status IS NULL",
        f"ALTER TABLE safeops_bill VALIDATE CONSTRAINT {CHECK}",
        "ALTER TABLE safeops_bill ALTER COLUMN status SET NOT NULL",
    ],
}
EXPAND_CRASHES = {
    "check_not_valid": [
        "ALTER TABLE safeops_bill ADD CONSTRAINT safeops_bill_amount_gte_0 CHECK (amount_cents >= 0) NOT VALID"
    ],
    "index_invalid": [
        "ALTER TABLE safeops_bill ADD CONSTRAINT safeops_bill_amount_gte_0 CHECK (amount_cents >= 0) NOT VALID",
        "ALTER TABLE safeops_bill VALIDATE CONSTRAINT safeops_bill_amount_gte_0",
        "ALTER TABLE safeops_bill ADD CONSTRAINT safeops_bill_payer_fk FOREIGN KEY (payer_id) "
        "REFERENCES safeops_payer (id) DEFERRABLE INITIALLY DEFERRED NOT VALID",
        "ALTER TABLE safeops_bill VALIDATE CONSTRAINT safeops_bill_payer_fk",
        # an index marked invalid, as a CREATE INDEX CONCURRENTLY killed mid-build leaves it
        "CREATE INDEX safeops_bill_payer_idx ON safeops_bill (payer_id)",
        "UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'safeops_bill_payer_idx'::regclass",
    ],
    "fk_not_validated": [
        "ALTER TABLE safeops_bill ADD CONSTRAINT safeops_bill_amount_gte_0 CHECK (amount_cents >= 0) NOT VALID",
        "ALTER TABLE safeops_bill VALIDATE CONSTRAINT safeops_bill_amount_gte_0",
        "ALTER TABLE safeops_bill ADD CONSTRAINT safeops_bill_payer_fk FOREIGN KEY (payer_id) "
        "REFERENCES safeops_payer (id) DEFERRABLE INITIALLY DEFERRED NOT VALID",
    ],
}


@pytest.mark.parametrize("crash", sorted(SAFEOPS_CRASHES), ids=str)
def test_contract_rerun_after_a_crash_at_any_statement_ends_in_the_same_state(bills, crash):
    assert bills.phase("expand").returncode == 0
    for statement in SAFEOPS_CRASHES[crash]:
        bills.sql(statement)

    result = bills.phase("contract")

    assert result.returncode == 0, result.report
    state = bill_state(bills)
    assert ("status", True) in state["not_null"]
    assert state["statuses"] == [("new", 333), ("sent", 667)]
    assert CHECK not in {name for name, *_ in state["constraints"]}
    assert state["applied"][-1] == ("0004_bill_status_not_null",)


@pytest.mark.parametrize("crash", sorted(EXPAND_CRASHES), ids=str)
def test_safe_expand_operations_rerun_after_a_crash(bills, crash):
    bills.migrate("safeops", "0002")
    for statement in EXPAND_CRASHES[crash]:
        bills.sql(statement)

    result = bills.phase("expand")

    assert result.returncode == 0, result.report
    state = bill_state(bills)
    assert state["constraints"] == [
        ("safeops_bill_amount_gte_0", "c", True),
        ("safeops_bill_payer_fk", "f", True),
    ]
    assert state["indexes"] == [("safeops_bill_payer_idx", True), ("safeops_bill_pkey", True)]


def test_the_safe_operations_migrate_backwards(bills, claims):
    assert bills.phase("contract").returncode == 0
    assert claims.phase("expand").returncode == 0

    bills.migrate("safeops", "0002")
    claims.migrate("claims", "0001")

    assert bill_state(bills)["constraints"] == []
    assert ("status", False) in bill_state(bills)["not_null"]
    assert unique_state(claims)["constraints"] == []
    assert unique_state(claims)["indexes"] == [("claims_claim_pkey", True, True)]
