"""The claims service's own migrations, released the phased way on real PostgreSQL.

The rename of `Claim.denial_reason` to `denial_reason_text` is a real
expand/contract pair: after `expand` the previous release (the historical
model of 0002) and the new release (the current model) write at the same time
and each sees what the other wrote; `contract` then removes the old column.
"""

from __future__ import annotations

import datetime
import io
import json
import threading
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connections
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader

from billing.models import Claim
from billing.selectors.rollup import rollup_report
from billing.tenancy import row_security_sql
from config.health.checks import unapplied_migrations
from config.health.probes import code_migrations
from phased_migrations.graph import unapplied_expand

pytestmark = pytest.mark.integration

PREVIOUS_RELEASE = ("billing", "0002_claim_number_unique")
RENAME = {
    "billing.0003_claim_denial_reason_text": "expand",
    "billing.0004_claim_denial_reason_backfill": "expand",
    "billing.0005_remove_claim_denial_reason": "contract",
}
ROLLUP = {
    "billing.0006_claim_rollup": "expand",
    "billing.0007_claim_rollup_backfill": "expand",
    "billing.0008_claim_tenant_created_idx": "expand",
    "billing.0009_merge_rollup_and_rename": "contract",
}


def later_releases() -> list[str]:
    """Billing migrations of the releases after the rename and the rollup, which depend on their contract step."""
    nodes = MigrationLoader(None, ignore_no_migrations=True).graph.nodes
    return sorted(f"billing.{name}" for app, name in nodes if app == "billing" and name[:4] > "0009")


@pytest.fixture(autouse=True)
def _the_rename_released_alone(settings):
    # A later release expands only once the rename has contracted; here the
    # rename is released on its own, so the later steps wait as contract steps.
    settings.PHASED_MIGRATIONS_PHASES = {label: "contract" for label in later_releases()}
    code_migrations.cache_clear()
    yield
    code_migrations.cache_clear()


def rename_only(migrations: list[dict]) -> list[dict]:
    return [m for m in migrations if f"{m['app']}.{m['name']}" not in later_releases()]


def migrate_phase(alias: str, phase: str) -> tuple[int, dict]:
    out = io.StringIO()
    code = 0
    try:
        call_command("migrate_phase", phase, "--json", "--database", alias, stdout=out, stderr=io.StringIO())
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, json.loads(out.getvalue().strip().splitlines()[-1])


def migrate_other_apps(alias: str, *, billing: str | None = None) -> None:
    """Plain migrate of every app but billing, which stops at `billing` (None: not even started)."""
    executor = MigrationExecutor(connections[alias])
    targets = [leaf for leaf in executor.loader.graph.leaf_nodes() if leaf[0] != "billing"]
    executor.migrate(targets + ([("billing", billing)] if billing else []))


def previous_release_models(alias: str) -> dict:
    """The billing models exactly as the previous release's code declared them."""
    state = MigrationLoader(connections[alias]).project_state(PREVIOUS_RELEASE)
    return {name: state.apps.get_model("billing", name) for name in ("Customer", "Payer", "Patient", "Claim")}


def fetch(alias: str, sql: str, params: list | None = None) -> list[tuple]:
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def claim_columns(alias: str) -> set[str]:
    rows = fetch(
        alias, "SELECT column_name FROM information_schema.columns WHERE table_name = 'billing_claim'"
    )
    return {name for (name,) in rows}


class PreviousRelease:
    """Writes claims the way the release before the rename does."""

    def __init__(self, alias: str) -> None:
        self.alias = alias
        self.models = previous_release_models(alias)
        objects = {name: model.objects.using(alias) for name, model in self.models.items()}
        self.customer = objects["Customer"].create(name="Acme Health")
        self.payer = objects["Payer"].create(code="AET", name="Aetna")
        self.patient = objects["Patient"].create(
            customer=self.customer, first_name="Ada", last_name="Lovelace", date_of_birth="1970-01-01"
        )
        self.claims = objects["Claim"]
        self.next_number = 0
        # A denied claim written before expand, so before the trigger existed.
        self.written_before = self.submit("Not covered by plan")

    def submit(self, denial_reason: str = "") -> int:
        self.next_number += 1
        claim = self.claims.create(
            customer=self.customer,
            number=self.next_number,
            patient=self.patient,
            payer=self.payer,
            billed_amount=Decimal("100.00"),
            service_date=datetime.date(2026, 1, 5),
            status="denied" if denial_reason else "submitted",
            denial_reason=denial_reason,
        )
        return claim.pk

    def deny(self, pk: int, reason: str) -> None:
        claim = self.claims.get(pk=pk)
        claim.status, claim.denial_reason = "denied", reason
        claim.save(update_fields=["status", "denial_reason", "updated_at"])

    def denial_reason(self, pk: int) -> str:
        return self.claims.get(pk=pk).denial_reason


@pytest.fixture
def previous_release(project_factory) -> PreviousRelease:
    """A database the previous release migrated and wrote a claim into."""
    project = project_factory()
    migrate_other_apps(project.alias, billing=PREVIOUS_RELEASE[1])
    return PreviousRelease(project.alias)


@pytest.fixture
def expanded(previous_release) -> PreviousRelease:
    """The same database after `migrate_phase expand`: both releases may serve now."""
    code, report = migrate_phase(previous_release.alias, "expand")
    assert code == 0, report
    return previous_release


def new_release(alias: str):
    return Claim.objects.using(alias)


def test_plan_runs_the_rename_and_the_rollup_as_expand_then_contract(previous_release):
    code, report = migrate_phase(previous_release.alias, "plan")

    assert code == 0, report
    assert {f"{m['app']}.{m['name']}": m["phase"] for m in rename_only(report["migrations"])} == {
        **RENAME,
        **ROLLUP,
    }


def test_lint_passes_the_release_on_the_previous_schema(previous_release):
    code, report = migrate_phase(previous_release.alias, "lint")

    assert code == 0, report
    found = {(v["migration"], v["rule"], v["level"]) for v in report["violations"]}
    # Dropping the old column is what contract is for: reported, not blocking.
    assert found == {("billing.0005_remove_claim_denial_reason", "ban-drop-column", "warning")}


def test_lint_passes_every_migration_of_the_service_from_an_empty_database(project_factory):
    # Django's and knox's own migrations are applied: their history holds a
    # DROP TABLE (knox 0002) that squawk reports even on a table knox just made.
    project = project_factory()
    migrate_other_apps(project.alias)

    code, report = migrate_phase(project.alias, "lint")

    assert code == 0, report
    assert {m["app"] for m in report["migrations"]} == {"billing"}
    assert len(report["migrations"]) == 9 + len(later_releases())


def test_expand_backfills_rows_the_previous_release_wrote(expanded):
    assert expanded.written_before
    assert fetch(
        expanded.alias,
        "SELECT denial_reason_text FROM billing_claim WHERE id = %s",
        [expanded.written_before],
    ) == [("Not covered by plan",)]
    assert {"denial_reason", "denial_reason_text"} <= claim_columns(expanded.alias)


def test_after_expand_the_new_release_reads_what_the_previous_one_writes(expanded):
    inserted = expanded.submit("Duplicate claim")
    updated = expanded.submit()
    expanded.deny(updated, "Prior authorization missing")

    texts = dict(new_release(expanded.alias).values_list("pk", "denial_reason_text"))

    assert texts[inserted] == "Duplicate claim"
    assert texts[updated] == "Prior authorization missing"


def test_after_expand_the_previous_release_reads_what_the_new_one_writes(expanded):
    claims = new_release(expanded.alias)
    created = claims.create(
        customer_id=expanded.customer.pk,
        number=99,
        patient_id=expanded.patient.pk,
        payer_id=expanded.payer.pk,
        billed_amount=Decimal("80.00"),
        service_date=datetime.date(2026, 1, 6),
        status="denied",
        denial_reason_text="Service not covered",
    )
    assert expanded.denial_reason(created.pk) == "Service not covered"

    created.denial_reason_text = "Coordination of benefits"
    created.save(update_fields=["denial_reason_text"])
    assert expanded.denial_reason(created.pk) == "Coordination of benefits"

    claims.filter(pk=expanded.written_before).update(denial_reason_text="")
    assert expanded.denial_reason(expanded.written_before) == ""


def test_after_expand_a_claim_without_a_denial_stays_empty_in_both_columns(expanded):
    pk = expanded.submit()

    assert fetch(
        expanded.alias, "SELECT denial_reason, denial_reason_text FROM billing_claim WHERE id = %s", [pk]
    ) == [("", "")]


def test_the_previous_release_keeps_writing_while_expand_runs(previous_release):
    alias = previous_release.alias
    # Enough rows for several backfill batches.
    fetch(
        alias,
        "INSERT INTO billing_claim (customer_id, number, patient_id, payer_id, billed_amount, paid_amount, "
        "service_date, status, denial_reason, created_at, updated_at) "
        "SELECT customer_id, 100000 + g, patient_id, payer_id, billed_amount, 0, service_date, 'submitted', "
        "'Reason ' || g, now(), now() FROM billing_claim, generate_series(1, 12000) AS g WHERE id = %s",
        [previous_release.written_before],
    )
    # Rows written before the rollup's triggers, changed while its backfill runs.
    older = [
        pk for (pk,) in fetch(alias, "SELECT id FROM billing_claim WHERE number > 100000 ORDER BY random()")
    ]
    done, errors, written = threading.Event(), [], []

    def previous_release_traffic():
        try:
            while not done.is_set():
                pk = previous_release.submit()
                previous_release.deny(pk, f"Denied while expanding {pk}")
                previous_release.deny(older.pop(), f"Denied while expanding {pk}")
                written.append(pk)
        except Exception as exc:
            errors.append(exc)
        finally:
            connections[alias].close()

    writer = threading.Thread(target=previous_release_traffic)
    writer.start()
    try:
        code, report = migrate_phase(alias, "expand")
    finally:
        done.set()
        writer.join()

    assert code == 0, report
    assert errors == []
    assert written
    assert fetch(alias, "SELECT count(*) FROM billing_claim WHERE denial_reason_text <> denial_reason") == [
        (0,)
    ]
    assert fetch(
        alias, "SELECT count(*) FROM billing_claim WHERE number > 100000 AND denial_reason_text = ''"
    ) == [(0,)]
    rollup = rollup_report(using=alias)
    assert rollup.backfilled
    assert rollup.differences == []
    assert rollup.keys > 0


def readiness_and_expand_agree(alias: str) -> list[str]:
    applied = {tuple(row) for row in fetch(alias, "SELECT app, name FROM django_migrations")}
    waiting = unapplied_migrations(code_migrations(), applied)
    assert waiting == sorted(unapplied_expand(alias))
    return waiting


def test_readiness_waits_for_exactly_what_expand_applies(previous_release):
    assert readiness_and_expand_agree(previous_release.alias) == [
        "billing.0003_claim_denial_reason_text",
        "billing.0004_claim_denial_reason_backfill",
        "billing.0006_claim_rollup",
        "billing.0007_claim_rollup_backfill",
        "billing.0008_claim_tenant_created_idx",
    ]
    assert migrate_phase(previous_release.alias, "expand")[0] == 0
    assert readiness_and_expand_agree(previous_release.alias) == []


def test_contract_drops_the_old_column_and_the_sync_trigger(expanded):
    code, report = migrate_phase(expanded.alias, "contract")

    assert code == 0, report
    assert [f"{m['app']}.{m['name']}" for m in rename_only(report["applied"])] == [
        "billing.0005_remove_claim_denial_reason",
        "billing.0009_merge_rollup_and_rename",
    ]
    assert "denial_reason" not in claim_columns(expanded.alias)
    assert fetch(expanded.alias, "SELECT tgname FROM pg_trigger WHERE tgname LIKE '%%denial%%'") == []
    assert fetch(expanded.alias, "SELECT proname FROM pg_proc WHERE proname LIKE '%%denial%%'") == []
    assert new_release(expanded.alias).get(pk=expanded.written_before).denial_reason_text == (
        "Not covered by plan"
    )


# The schema as the catalog describes it: columns, constraints, indexes, triggers, functions.
SCHEMA_QUERIES = [
    """SELECT table_name, column_name, data_type, character_maximum_length, is_nullable, column_default
       FROM information_schema.columns WHERE table_schema = 'public'""",
    """SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
       FROM pg_constraint WHERE connamespace = 'public'::regnamespace""",
    "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'",
    "SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal",
    "SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace",
    "SELECT app, name FROM django_migrations",
]


def schema(alias: str) -> list[list[tuple]]:
    return [sorted(fetch(alias, query), key=repr) for query in SCHEMA_QUERIES]


def test_expand_then_contract_from_an_empty_database_builds_the_schema_plain_migrate_builds(project_factory):
    phased, plain = project_factory(), project_factory()

    assert migrate_phase(phased.alias, "expand")[0] == 0
    assert migrate_phase(phased.alias, "contract")[0] == 0
    call_command("migrate", database=plain.alias, verbosity=0)

    assert schema(phased.alias) == schema(plain.alias)
    assert "denial_reason" not in claim_columns(phased.alias)


# Row-level security and grants, beside the schema: what 0010 and 0011 set.
SECURITY_QUERIES = [
    "SELECT tablename, policyname, roles::text, cmd, qual, with_check FROM pg_policies",
    """SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class
       WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'""",
    """SELECT table_name, grantee, privilege_type FROM information_schema.role_table_grants
       WHERE table_schema = 'public'""",
]
ROLLUP_LINE = ["0006_claim_rollup", "0007_claim_rollup_backfill", "0011_claim_rollup_row_security"]
# The order a database applied billing's migrations in while 0008 followed the rollup's backfill
# and 0010 (after the merge 0009) also put the rollup behind the tenant policy.
OLD_ORDER = [
    "0001_initial",
    "0002_claim_number_unique",
    "0003_claim_denial_reason_text",
    "0004_claim_denial_reason_backfill",
    "0006_claim_rollup",
    "0007_claim_rollup_backfill",
    "0008_claim_tenant_created_idx",
    "0005_remove_claim_denial_reason",
    "0009_merge_rollup_and_rename",
    "0010_roles_row_security",
]


def security(alias: str) -> list[list[tuple]]:
    return [sorted(fetch(alias, query), key=repr) for query in SECURITY_QUERIES]


def apply_in_order(alias: str, names: list[str]) -> None:
    executor = MigrationExecutor(connections[alias])
    nodes = executor.loader.graph.nodes
    executor.migrate([("billing", names[-1])], plan=[(nodes[("billing", name)], False) for name in names])


def test_the_rollup_is_a_line_no_other_migration_needs():
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    rollup = {("billing", name) for name in ROLLUP_LINE}
    others = [key for key in graph.nodes if key not in rollup]
    assert all(not set(graph.forwards_plan(key)) & rollup for key in others)
    assert graph.leaf_nodes("billing") == [("billing", ROLLUP_LINE[-1])]


def test_a_database_without_the_rollup_expands_it_while_the_rest_is_applied(project_factory, settings):
    settings.PHASED_MIGRATIONS_PHASES = {}
    project = project_factory()
    migrate_other_apps(project.alias, billing="0010_roles_row_security")
    assert fetch(project.alias, "SELECT to_regclass('billing_claimrollup')") == [(None,)]

    code, plan = migrate_phase(project.alias, "plan")
    assert code == 0, plan
    assert [(m["name"], m["phase"]) for m in plan["migrations"]] == [(name, "expand") for name in ROLLUP_LINE]
    code, report = migrate_phase(project.alias, "expand")
    assert code == 0, report
    assert [m["name"] for m in report["applied"]] == ROLLUP_LINE
    assert rollup_report(using=project.alias).backfilled


def test_a_database_migrated_in_the_old_order_ends_as_a_fresh_one(project_factory):
    old, fresh = project_factory(), project_factory()
    migrate_other_apps(old.alias)
    apply_in_order(old.alias, OLD_ORDER)
    # What 0010 did to the rollup then.
    for statement in row_security_sql("billing_claimrollup"):
        fetch(old.alias, statement)
    MigrationLoader(connections[old.alias]).check_consistent_history(connections[old.alias])

    code, report = migrate_phase(old.alias, "contract")
    assert code == 0, report
    assert [m["name"] for m in report["applied"]] == [ROLLUP_LINE[-1]]
    call_command("migrate", database=fresh.alias, verbosity=0)
    assert schema(old.alias) == schema(fresh.alias)
    assert security(old.alias) == security(fresh.alias)
    assert ("billing_claimrollup", True, True) in security(old.alias)[1]
