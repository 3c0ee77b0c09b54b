"""Which phase a migration belongs to, and why. Pure: no database.

An explicit marker on the Migration class wins (see `markers`). Otherwise the
operations decide: a migration is expand only when every operation keeps the
previous release working; one operation the previous release cannot live with
makes it contract. RunSQL and RunPython cannot be judged and must be marked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.operations import NotInTransactionMixin
from django.db.migrations import operations as ops

from phased_migrations.markers import Phase, declared_phase

# Attributes that live only in Python: changing them alters no column.
_PYTHON_ONLY_FIELD_ATTRS = frozenset(
    {"verbose_name", "help_text", "choices", "validators", "editable", "blank", "default", "error_messages"}
)


class UnclassifiableMigration(Exception):
    """A migration whose phase cannot be derived and was not declared."""


@dataclass(frozen=True)
class Classification:
    phase: Phase
    reason: str


def _field_relaxes_or_keeps(old: Any, new: Any) -> str | None:
    """Why an AlterField is expand-safe, or None when it changes the column incompatibly."""
    if old is None:
        return None
    _, old_path, old_args, old_kwargs = old.deconstruct()
    _, new_path, new_args, new_kwargs = new.deconstruct()
    if old_path != new_path or old_args != new_args:
        return None

    def column_attrs(kwargs: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in kwargs.items() if k not in _PYTHON_ONLY_FIELD_ATTRS}

    before, after = column_attrs(old_kwargs), column_attrs(new_kwargs)
    if before == after:
        return "AlterField changes Python-side attributes only"
    before.pop("null", None)
    after.pop("null", None)
    if before == after and new.null and not old.null:
        return "AlterField drops NOT NULL, which the previous release does not notice"
    return None


def _operation_phase(operation: Any, old_fields: dict[tuple[str, str], Any]) -> Classification | None:
    """The phase one operation forces; None for RunSQL/RunPython, which cannot be judged."""
    name = type(operation).__name__
    own = getattr(operation, "phase", None)
    if isinstance(own, Phase):
        return Classification(own, f"{name} belongs to the {own} phase")
    if isinstance(operation, ops.RunSQL | ops.RunPython):
        return None
    if isinstance(operation, ops.SeparateDatabaseAndState):
        inner = [_operation_phase(op, old_fields) for op in operation.database_operations]
        if any(c is None for c in inner):
            return None
        worst = _worst([c for c in inner if c is not None])
        return worst or Classification(Phase.EXPAND, "SeparateDatabaseAndState changes model state only")
    if isinstance(operation, ops.AddField):
        field = operation.field
        if field.null or field.has_db_default() or field.many_to_many:
            return Classification(Phase.EXPAND, f"AddField {operation.name} is nullable or has a db_default")
        return Classification(
            Phase.CONTRACT,
            f"AddField {operation.name} is NOT NULL without db_default: "
            "the previous release's inserts would fail",
        )
    if isinstance(operation, ops.AlterField):
        old = old_fields.get((operation.model_name_lower, operation.name_lower))
        why = _field_relaxes_or_keeps(old, operation.field)
        if why:
            return Classification(Phase.EXPAND, why)
        return Classification(
            Phase.CONTRACT, f"AlterField {operation.name} changes the column's type or nullability"
        )
    if isinstance(operation, ops.AlterUniqueTogether | ops.AlterIndexTogether):
        return Classification(Phase.CONTRACT, f"{name} may tighten what the previous release can write")
    expand = (
        ops.CreateModel,
        ops.AddIndex,
        ops.AddConstraint,
        ops.AlterModelOptions,
        ops.AlterModelManagers,
        ops.AlterModelTableComment,
    )
    if isinstance(operation, expand):
        return Classification(Phase.EXPAND, f"{name} only adds to the schema")
    return Classification(Phase.CONTRACT, f"{name} removes or renames what the previous release uses")


def _worst(classes: Iterable[Classification]) -> Classification | None:
    found = list(classes)
    for item in found:
        if item.phase is Phase.CONTRACT:
            return item
    return found[0] if found else None


def needs_non_atomic(operation: Any) -> bool:
    """Whether an operation commits as it goes (concurrent index builds, batched backfills)."""
    if isinstance(operation, ops.SeparateDatabaseAndState):
        return any(needs_non_atomic(op) for op in operation.database_operations)
    return bool(getattr(operation, "requires_non_atomic", False)) or isinstance(
        operation, NotInTransactionMixin
    )


def classify(
    migration: Any,
    old_fields: dict[tuple[str, str], Any] | None = None,
    *,
    app_is_new: bool = False,
    override: Phase | None = None,
) -> Classification:
    """Classify `migration`.

    `old_fields` maps (model, field) to the field before the migration, so an
    AlterField can be told apart from a harmless one. `app_is_new` means no
    migration of the app has been applied: no running release can use its tables.
    """
    label = f"{migration.app_label}.{migration.name}"
    if migration.atomic and any(needs_non_atomic(op) for op in migration.operations):
        raise UnclassifiableMigration(
            f"{label} holds an operation that cannot run in a transaction: "
            "set `atomic = False` on the Migration."
        )
    if override is not None:
        return Classification(override, "set in settings.PHASED_MIGRATIONS_PHASES")
    # Before the marker: with no release using the app's tables yet, even a
    # declared contract step is safe, and a later expand step may depend on it.
    if app_is_new:
        return Classification(Phase.EXPAND, "first migrations of an app: no running release uses its tables")
    declared = declared_phase(migration)
    if declared is not None:
        return Classification(*declared)
    found: list[Classification] = []
    for operation in migration.operations:
        result = _operation_phase(operation, old_fields or {})
        if result is None:
            raise UnclassifiableMigration(
                f"{label} runs {type(operation).__name__}, whose effect cannot be judged: "
                "declare its phase on the Migration class with `phase = Phase.EXPAND` or "
                "`phase = Phase.CONTRACT` (from phased_migrations.markers import Phase)."
            )
        found.append(result)
    return _worst(found) or Classification(Phase.EXPAND, "no operations")
