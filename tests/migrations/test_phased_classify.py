"""Classification, expand planning, retry and lint judgement: pure logic, no database."""

from __future__ import annotations

import pytest
from django.contrib.postgres.operations import AddIndexConcurrently as DjangoAddIndexConcurrently
from django.db import migrations, models
from django_safemigrate import Safe

from phased_migrations.classify import UnclassifiableMigration, classify
from phased_migrations.lint import judge, statement_at
from phased_migrations.markers import Phase, declared_phase
from phased_migrations.operations import (
    AddCheckConstraintNotValid,
    SetNotNull,
    add_unique_constraint_concurrently,
)
from phased_migrations.planning import Entry, plan_expand
from phased_migrations.retry import backoff_delays, is_lock_timeout


def migration(*operations, atomic=True, **attrs):
    cls = type(
        "Migration", (migrations.Migration,), {"operations": list(operations), "atomic": atomic, **attrs}
    )
    return cls("0002_change", "shop")


UNIQUE = models.UniqueConstraint(fields=["customer_id", "number"], name="shop_claim_number_uniq")
CHECK = models.CheckConstraint(condition=models.Q(amount__gte=0), name="shop_amount_gte_0")


@pytest.mark.parametrize(
    ("operation", "phase"),
    [
        (migrations.CreateModel("Order", [("id", models.BigAutoField(primary_key=True))]), Phase.EXPAND),
        (migrations.AddField("order", "note", models.TextField(null=True)), Phase.EXPAND),
        (migrations.AddField("order", "state", models.TextField(db_default="new")), Phase.EXPAND),
        (migrations.AddField("order", "state", models.TextField(default="new")), Phase.CONTRACT),
        (migrations.AddIndex("order", models.Index(fields=["note"], name="i")), Phase.EXPAND),
        (migrations.AddConstraint("order", CHECK), Phase.EXPAND),
        (AddCheckConstraintNotValid("order", CHECK), Phase.EXPAND),
        (migrations.RemoveField("order", "note"), Phase.CONTRACT),
        (migrations.DeleteModel("Order"), Phase.CONTRACT),
        (migrations.RenameField("order", "note", "memo"), Phase.CONTRACT),
        (migrations.RenameModel("Order", "Purchase"), Phase.CONTRACT),
        (migrations.RemoveConstraint("order", "c"), Phase.CONTRACT),
        (migrations.AlterUniqueTogether("order", {("a", "b")}), Phase.CONTRACT),
        (migrations.AlterModelOptions("order", {"ordering": ["id"]}), Phase.EXPAND),
        (migrations.AlterField("order", "note", models.TextField()), Phase.CONTRACT),
    ],
    ids=lambda value: type(value).__name__ if not isinstance(value, Phase) else str(value),
)
def test_operations_decide_the_phase(operation, phase):
    assert classify(migration(operation)).phase is phase


@pytest.mark.parametrize(
    ("before", "after", "phase"),
    [
        (models.TextField(), models.TextField(help_text="shown in forms"), Phase.EXPAND),
        (models.TextField(), models.TextField(null=True), Phase.EXPAND),
        (models.TextField(null=True), models.TextField(), Phase.CONTRACT),
        (models.CharField(max_length=10), models.CharField(max_length=5), Phase.CONTRACT),
        (models.TextField(), models.IntegerField(), Phase.CONTRACT),
    ],
)
def test_alter_field_is_judged_against_the_field_before(before, after, phase):
    result = classify(migration(migrations.AlterField("order", "note", after)), {("order", "note"): before})

    assert result.phase is phase


def test_one_contract_operation_makes_the_migration_contract():
    result = classify(
        migration(
            migrations.AddField("order", "a", models.TextField(null=True)),
            migrations.RemoveField("order", "b"),
        )
    )

    assert result.phase is Phase.CONTRACT
    assert "RemoveField" in result.reason


@pytest.mark.parametrize(
    "operation", [migrations.RunPython(migrations.RunPython.noop), migrations.RunSQL("SELECT 1")]
)
def test_unmarked_runpython_and_runsql_are_refused_naming_the_marker(operation):
    with pytest.raises(UnclassifiableMigration, match=r"shop\.0002_change runs Run.*phase = Phase\.EXPAND"):
        classify(migration(operation))


@pytest.mark.parametrize(
    ("attrs", "phase"),
    [
        ({"phase": Phase.CONTRACT}, Phase.CONTRACT),
        ({"phase": "expand"}, Phase.EXPAND),
        ({"safe": Safe.before_deploy()}, Phase.EXPAND),
        ({"safe": Safe.always()}, Phase.EXPAND),
        ({"safe": Safe.after_deploy()}, Phase.CONTRACT),
    ],
)
def test_explicit_markers_win_over_operations(attrs, phase):
    result = classify(migration(migrations.RunPython(migrations.RunPython.noop), **attrs))

    assert result.phase is phase
    assert "declared" in result.reason


def test_no_marker_declared_on_a_plain_migration():
    assert declared_phase(migration()) is None


def test_settings_override_and_new_apps():
    unmarked = migration(migrations.RunPython(migrations.RunPython.noop))

    assert classify(unmarked, override=Phase.CONTRACT).phase is Phase.CONTRACT
    assert classify(migration(migrations.RemoveField("order", "b")), app_is_new=True).phase is Phase.EXPAND


@pytest.mark.parametrize(
    "operations",
    [
        add_unique_constraint_concurrently("claim", UNIQUE),
        [DjangoAddIndexConcurrently("order", models.Index(fields=["note"], name="i"))],
        [SetNotNull("order", "note", backfill="")],
    ],
    ids=["unique-constraint", "django-concurrent-index", "set-not-null"],
)
def test_concurrent_operations_need_a_non_atomic_migration(operations):
    with pytest.raises(UnclassifiableMigration, match="set `atomic = False`"):
        classify(migration(*operations))
    assert classify(migration(*operations, atomic=False)).phase in Phase


def test_phased_unique_constraint_is_expand_and_set_not_null_is_contract():
    assert (
        classify(migration(*add_unique_constraint_concurrently("claim", UNIQUE), atomic=False)).phase
        is Phase.EXPAND
    )
    assert classify(migration(SetNotNull("order", "note"), atomic=False)).phase is Phase.CONTRACT


def test_conditional_unique_constraints_are_rejected():
    conditional = models.UniqueConstraint(fields=["number"], condition=models.Q(active=True), name="u")

    with pytest.raises(ValueError, match="only plain field lists"):
        add_unique_constraint_concurrently("claim", conditional)


def entry(app, name, phase):
    return Entry(app, name, phase, "reason")


def test_expand_plan_skips_contract_migrations_nobody_depends_on():
    unapplied = [
        entry("a", "0002", Phase.CONTRACT),
        entry("b", "0002", Phase.EXPAND),
        entry("b", "0003", Phase.EXPAND),
    ]
    parents = {("b", "0003"): [("b", "0002")], ("b", "0002"): [("b", "0001")], ("a", "0002"): [("a", "0001")]}

    plan = plan_expand(unapplied, parents)

    assert [e.key for e in plan.apply] == [("b", "0002"), ("b", "0003")]
    assert plan.blocked == {}


def test_expand_plan_blocks_on_a_contract_ancestor_even_through_other_apps():
    unapplied = [
        entry("a", "0002", Phase.CONTRACT),
        entry("a", "0003", Phase.EXPAND),
        entry("b", "0002", Phase.EXPAND),
    ]
    parents = {("a", "0003"): [("a", "0002")], ("b", "0002"): [("a", "0003"), ("b", "0001")]}

    plan = plan_expand(unapplied, parents)

    assert plan.blocked == {("a", "0003"): [("a", "0002")], ("b", "0002"): [("a", "0002")]}
    assert plan.apply == []


@pytest.mark.parametrize(
    ("retries", "base", "expected"),
    [(0, 1.0, []), (3, 0.5, [0.5, 1.0, 2.0]), (5, 20.0, [20.0, 40.0, 60.0, 60.0, 60.0])],
)
def test_backoff_doubles_up_to_a_cap(retries, base, expected):
    assert backoff_delays(retries, base) == expected


class FakePgError(Exception):
    def __init__(self, message, sqlstate):
        super().__init__(message)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (FakePgError("canceling statement due to lock timeout", "55P03"), True),
        (FakePgError("canceling statement due to lock timeout", "57014"), True),
        (FakePgError("canceling statement due to statement timeout", "57014"), False),
        (FakePgError("duplicate key", "23505"), False),
        (ValueError("no sqlstate"), False),
    ],
)
def test_only_lock_timeouts_are_retried(error, retried):
    wrapped = RuntimeError("django wrapper")
    wrapped.__cause__ = error

    assert is_lock_timeout(wrapped) is retried


SQL = """BEGIN;
--
-- Add index shop_ref_idx on field(s) ref of model order
--
CREATE INDEX "shop_ref_idx" ON "shop_order" ("ref");
ALTER TABLE "shop_order" DROP COLUMN "legacy" CASCADE;
COMMIT;
"""


def test_statement_at_returns_the_whole_statement_without_comments():
    assert statement_at(SQL, 4, 0) == 'CREATE INDEX "shop_ref_idx" ON "shop_order" ("ref");'
    assert statement_at(SQL, 5, 30) == 'ALTER TABLE "shop_order" DROP COLUMN "legacy" CASCADE;'


FINDINGS = [
    {
        "rule_name": "require-concurrent-index-creation",
        "message": "blocks writes",
        "help": "use concurrently",
        "line": 4,
        "column": 0,
    },
    {"rule_name": "ban-drop-column", "message": "may break clients", "line": 5, "column": 0},
]


@pytest.mark.parametrize(
    ("phase", "new_tables", "levels"),
    [
        (Phase.EXPAND, frozenset(), ["error", "error"]),
        (Phase.CONTRACT, frozenset(), ["error", "warning"]),
        (Phase.EXPAND, frozenset({"shop_order"}), ["warning", "warning"]),
    ],
)
def test_judge_levels_by_phase_and_table_age(phase, new_tables, levels):
    violations = judge(Entry("shop", "0002_x", phase, "r"), SQL, FINDINGS, new_tables)

    assert [v.level for v in violations] == levels
    assert violations[0].as_json()["migration"] == "shop.0002_x"
    assert violations[0].message.startswith("blocks writes use concurrently")


@pytest.mark.parametrize(
    ("statement", "new_tables", "level"),
    [
        ('DROP TABLE "knox_authtoken" CASCADE;', frozenset({"knox_authtoken"}), "warning"),
        ('DROP TABLE IF EXISTS "knox_authtoken";', frozenset({"knox_authtoken"}), "warning"),
        ('DROP TABLE "shop_order" CASCADE;', frozenset({"knox_authtoken"}), "error"),
    ],
)
def test_dropping_a_table_an_unapplied_migration_created_blocks_nobody(statement, new_tables, level):
    sql = f"BEGIN;\n{statement}\nCOMMIT;\n"
    finding = {"rule_name": "ban-drop-table", "message": "drops data", "line": 1, "column": 0}

    (violation,) = judge(Entry("knox", "0002_x", Phase.EXPAND, "r"), sql, [finding], new_tables)

    assert violation.level == level
