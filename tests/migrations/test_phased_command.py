"""migrate_phase end to end against real PostgreSQL: plan, lint, expand, contract, status."""

from __future__ import annotations

import threading

import pytest
from phased_previous_release import exercise_claims

pytestmark = pytest.mark.integration


def labels(migrations: list[dict]) -> dict[str, str]:
    return {f"{m['app']}.{m['name']}": m["phase"] for m in migrations}


@pytest.fixture
def claims(project_factory):
    """The claims table as the previous release left it: 0001 applied, the rest pending."""
    project = project_factory("claims")
    project.migrate("claims", "0001")
    return project


def test_plan_lists_each_unapplied_migration_with_phase_and_reason(claims):
    result = claims.phase("plan")

    assert result.returncode == 0, result.stderr
    migrations = result.report["migrations"]
    assert labels(migrations) == {
        "claims.0002_claim_number_unique": "expand",
        "claims.0003_claim_memo": "expand",
    }
    assert all(m["reason"] for m in migrations)


def test_plan_in_human_form_names_phase_and_reason(claims):
    assert (
        "expand    claims.0003_claim_memo  (AddField memo is nullable or has a db_default)"
        in claims.human("plan")
    )


def test_lint_passes_the_phased_unique_constraint(claims):
    result = claims.phase("lint")

    assert result.returncode == 0, result.stdout + result.stderr
    assert [v for v in result.report["violations"] if v["level"] == "error"] == []


def test_lint_fails_on_blocking_index_and_constraint_in_expand(project_factory):
    project = project_factory("unsafe")
    project.migrate("unsafe", "0001")

    result = project.phase("lint")

    assert result.returncode == 2
    found = {(v["migration"], v["rule"], v["level"]) for v in result.report["violations"]}
    assert ("unsafe.0002_payment_reference_index", "require-concurrent-index-creation", "error") in found
    assert ("unsafe.0003_payment_amount_positive", "constraint-missing-not-valid", "error") in found
    statements = {v["statement"] for v in result.report["violations"]}
    assert 'CREATE INDEX "unsafe_payment_ref_idx" ON "unsafe_payment" ("reference");' in statements


def test_lint_of_migrations_whose_tables_are_new_only_warns(project_factory):
    result = project_factory("unsafe").phase("lint")

    assert result.returncode == 0
    assert {v["level"] for v in result.report["violations"]} == {"warning"}


def test_lint_only_warns_about_destructive_sql_in_a_contract_migration(project_factory):
    project = project_factory("blocked")
    project.migrate("blocked", "0001")

    result = project.phase("lint")

    assert result.returncode == 0
    [violation] = result.report["violations"]
    assert violation["rule"] == "ban-drop-column"
    assert violation["level"] == "warning"
    assert violation["phase"] == "contract"


def test_expand_refuses_to_apply_past_an_unapplied_contract_migration(project_factory):
    project = project_factory("blocked")
    project.migrate("blocked", "0001")

    result = project.phase("expand")

    assert result.returncode == 2
    assert result.report["blocked"] == [
        {"app": "blocked", "name": "0003_invoice_note", "needs": ["blocked.0002_remove_legacy_code"]}
    ]
    assert "nothing was applied" in result.report["error"]
    columns = project.sql(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'blocked_invoice'"
    )
    assert sorted(c for (c,) in columns) == ["id", "legacy_code"]


def test_contract_applies_what_expand_left(project_factory):
    project = project_factory("blocked")
    project.migrate("blocked", "0001")

    result = project.phase("contract")

    assert result.returncode == 0, result.stderr
    applied = [f"{a['app']}.{a['name']}" for a in result.report["applied"]]
    assert applied == ["blocked.0002_remove_legacy_code", "blocked.0003_invoice_note"]
    assert all(a["seconds"] >= 0 and a["attempts"] == 1 for a in result.report["applied"])
    assert project.phase("expand").report["applied"] == []


def test_runpython_without_a_marker_is_refused_with_the_marker_to_add(project_factory):
    project = project_factory("unmarked")
    project.migrate("unmarked", "0001")

    for phase in ("plan", "lint", "expand"):
        result = project.phase(phase)
        assert result.returncode == 1
        assert "unmarked.0002_backfill runs RunPython" in result.report["error"]
        assert "phase = Phase.EXPAND" in result.report["error"]
    [refused] = project.phase("plan").report["migrations"]
    assert refused["refused"] is True


def test_explicit_markers_decide_the_phase(project_factory):
    project = project_factory("marked")
    project.migrate("marked", "0001")

    plan = project.phase("plan").report["migrations"]

    assert labels(plan) == {"marked.0002_backfill": "contract", "marked.0003_comment": "expand"}
    expand = project.phase("expand")
    assert [a["name"] for a in expand.report["applied"]] == ["0003_comment"]


def test_status_counts_applied_and_unapplied_per_phase(claims):
    claims.phase("expand")

    report = claims.phase("status").report

    state = {f"{m['app']}.{m['name']}": m["applied"] for m in report["migrations"]}
    assert state["claims.0002_claim_number_unique"] is True
    assert state["claims.0003_claim_memo"] is True
    assert report["summary"]["expand"]["unapplied"] == 0


def test_previous_release_still_works_after_expand(claims):
    with claims.installed():
        exercise_claims(claims.alias)

    assert claims.phase("expand").returncode == 0

    with claims.installed():
        exercise_claims(claims.alias)


def test_the_command_line_exits_2_and_ends_stdout_with_json(project_factory):
    project = project_factory("unsafe")
    project.migrate("unsafe", "0001")

    result = project.cli("lint", "--json")

    assert result.returncode == 2
    report = result.report
    assert report["ok"] is False
    assert {v["rule"] for v in report["violations"]} >= {"require-concurrent-index-creation"}
    assert "unsafe.0002_payment_reference_index [require-concurrent-index-creation]" in result.stderr


def test_unapplied_expand_lists_what_the_new_code_still_waits_for(claims):
    from phased_migrations.graph import unapplied_expand

    with claims.installed():
        assert unapplied_expand(claims.alias) == ["claims.0002_claim_number_unique", "claims.0003_claim_memo"]
        claims.phase("expand")
        assert unapplied_expand(claims.alias) == []


LOCK_KEY = 0x726F6C6C67756172


def test_a_phase_waits_for_the_migration_lock_another_run_holds_then_applies(claims):
    holder = claims.connect()
    holder.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
    threading.Timer(1.0, holder.close).start()  # the other run ends, its session with it

    result = claims.phase("expand", "--lock-wait", "20")

    assert result.returncode == 0, result.stderr
    assert result.report["lockWaitSeconds"] >= 0.9
    assert {m["name"] for m in result.report["applied"]} == {"0002_claim_number_unique", "0003_claim_memo"}


def test_a_phase_gives_up_on_a_held_lock_with_exit_3_and_changes_nothing(claims):
    with claims.connect() as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])

        result = claims.phase("expand", "--lock-wait", "0.5")

        assert result.returncode == 3
        assert "another migrate_phase holds the migration lock" in result.report["error"]
        assert claims.sql("SELECT count(*) FROM django_migrations WHERE name = '0003_claim_memo'") == [(0,)]


def test_the_lock_is_released_when_the_phase_ends(claims):
    assert claims.phase("lint").returncode == 0

    with claims.connect() as other:
        assert other.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY]).fetchone() == (True,)
