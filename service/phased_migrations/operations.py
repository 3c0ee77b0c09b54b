"""Schema changes that never hold a write-blocking lock for longer than a catalog update.

Use them in an ordinary migration file. Operations that build indexes
concurrently or backfill in batches commit as they go, so their migration must
say ``atomic = False``; `migrate_phase` refuses an atomic one before anything runs.

Every operation checks the catalog before each statement (see `catalog`), so a
migration that crashed half-way can simply run again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.postgres.operations import AddConstraintNotValid as _DjangoAddConstraintNotValid
from django.contrib.postgres.operations import AddIndexConcurrently as _DjangoAddIndexConcurrently
from django.contrib.postgres.operations import RemoveIndexConcurrently
from django.contrib.postgres.operations import ValidateConstraint as _DjangoValidateConstraint
from django.db import IntegrityError, NotSupportedError
from django.db.migrations.operations import AddConstraint, SeparateDatabaseAndState
from django.db.migrations.operations.base import Operation
from django.db.models import UniqueConstraint

from phased_migrations import catalog
from phased_migrations.markers import Phase

__all__ = [
    "AddCheckConstraintNotValid",
    "AddForeignKeyNotValid",
    "AddIndexConcurrently",
    "AttachUniqueIndexAsConstraint",
    "CreateUniqueIndexConcurrently",
    "DuplicateKeysError",
    "RemoveIndexConcurrently",
    "SetNotNull",
    "ValidateConstraint",
    "add_unique_constraint_concurrently",
]

MAX_IDENTIFIER = 63


class DuplicateKeysError(IntegrityError):
    """A unique index could not be built because some keys occur more than once."""


def _collecting(schema_editor: Any) -> bool:
    """True under `sqlmigrate` and `lint`: render every statement, touch nothing."""
    return bool(getattr(schema_editor, "collect_sql", False))


def _ensure_not_in_transaction(operation: Operation, schema_editor: Any) -> None:
    if schema_editor.connection.in_atomic_block:
        raise NotSupportedError(
            f"{type(operation).__name__} commits as it goes and cannot run inside a transaction: "
            "set `atomic = False` on the migration."
        )


def _table(app_label: str, model_name: str, state: Any) -> Any:
    return state.apps.get_model(app_label, model_name)._meta


class _CatalogOperation(Operation):
    """A database-only step; its model state is declared by the operations beside it."""

    phase = Phase.EXPAND
    requires_non_atomic = False
    reduces_to_sql = False

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass


class CreateUniqueIndexConcurrently(_CatalogOperation):
    """CREATE UNIQUE INDEX CONCURRENTLY, rebuilding an invalid index a failed build left behind."""

    requires_non_atomic = True

    def __init__(self, model_name: str, name: str, fields: Sequence[str]) -> None:
        self.model_name = model_name
        self.name = name
        self.fields = list(fields)

    def describe(self) -> str:
        return f"Concurrently build unique index {self.name} on {self.model_name}({', '.join(self.fields)})"

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        meta = _table(app_label, self.model_name, to_state)
        columns = [meta.get_field(f).column for f in self.fields]
        quote = schema_editor.quote_name
        create = (
            f"CREATE UNIQUE INDEX CONCURRENTLY {quote(self.name)} ON {quote(meta.db_table)} "
            f"({', '.join(quote(c) for c in columns)})"
        )
        drop = f"DROP INDEX CONCURRENTLY IF EXISTS {quote(self.name)}"
        if _collecting(schema_editor):
            schema_editor.execute(create)
            return
        _ensure_not_in_transaction(self, schema_editor)
        connection = schema_editor.connection
        if catalog.constraint_validated(connection, meta.db_table, self.name) is not None:
            return
        state = catalog.index_state(connection, self.name)
        if state is catalog.IndexState.VALID:
            return
        if state is catalog.IndexState.INVALID:
            schema_editor.execute(drop)
        try:
            schema_editor.execute(create)
        except IntegrityError as exc:
            duplicates = catalog.duplicate_keys(connection, meta.db_table, columns)
            schema_editor.execute(drop)
            shown = "; ".join(
                ", ".join(f"{c}={v!r}" for c, v in zip(columns, row[:-1], strict=True)) + f" ({row[-1]} rows)"
                for row in duplicates
            )
            raise DuplicateKeysError(
                f"Unique index {self.name} on {meta.db_table}({', '.join(columns)}) cannot be built: "
                f"duplicate keys {shown}. The invalid index was dropped; "
                "remove the duplicates, then run the migration again."
            ) from exc

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if not _collecting(schema_editor):
            _ensure_not_in_transaction(self, schema_editor)
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(self.name)}")


class AttachUniqueIndexAsConstraint(_CatalogOperation):
    """ALTER TABLE ... ADD CONSTRAINT ... UNIQUE USING INDEX: a catalog update, no table scan."""

    def __init__(self, model_name: str, name: str) -> None:
        self.model_name = model_name
        self.name = name

    def describe(self) -> str:
        return f"Turn unique index {self.name} into a constraint on {self.model_name}"

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        table = _table(app_label, self.model_name, to_state).db_table
        quote = schema_editor.quote_name
        name = quote(self.name)
        sql = f"ALTER TABLE {quote(table)} ADD CONSTRAINT {name} UNIQUE USING INDEX {name}"
        if _collecting(schema_editor):
            schema_editor.execute(sql)
            return
        connection = schema_editor.connection
        if catalog.constraint_validated(connection, table, self.name) is not None:
            return
        if catalog.index_state(connection, self.name) is not catalog.IndexState.VALID:
            raise NotSupportedError(
                f"AttachUniqueIndexAsConstraint needs the valid unique index {self.name}: "
                "run CreateUniqueIndexConcurrently before it."
            )
        schema_editor.execute(sql)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        table = _table(app_label, self.model_name, from_state).db_table
        quote = schema_editor.quote_name
        schema_editor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT IF EXISTS {quote(self.name)}")


def add_unique_constraint_concurrently(model_name: str, constraint: UniqueConstraint) -> list[Operation]:
    """The operations that add `constraint` to `model_name` without blocking writes.

    Put them in a migration with ``atomic = False``. The index is built
    concurrently, attached as the constraint, and Django's model state records
    an ordinary `UniqueConstraint`, so later `makemigrations` runs see no change.
    """
    if constraint.condition is not None or constraint.expressions or constraint.include:
        raise ValueError(
            f"{constraint.name}: only plain field lists can become a constraint USING INDEX; "
            "use AddIndexConcurrently with a unique Index for conditional or expression keys."
        )
    return [
        SeparateDatabaseAndState(
            database_operations=[
                CreateUniqueIndexConcurrently(model_name, constraint.name, constraint.fields),
                AttachUniqueIndexAsConstraint(model_name, constraint.name),
            ],
            state_operations=[AddConstraint(model_name, constraint)],
        )
    ]


class AddCheckConstraintNotValid(_DjangoAddConstraintNotValid):
    """Django's AddConstraintNotValid (new writes are checked at once, old rows by
    ValidateConstraint), re-runnable: a constraint already there is left alone."""

    phase = Phase.EXPAND
    reduces_to_sql = False

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        table = _table(app_label, self.model_name, from_state).db_table
        if not _collecting(schema_editor) and (
            catalog.constraint_validated(schema_editor.connection, table, self.constraint.name) is not None
        ):
            return
        super().database_forwards(app_label, schema_editor, from_state, to_state)


class AddForeignKeyNotValid(_CatalogOperation):
    """Add the foreign key of a `db_constraint=False` field NOT VALID.

    The field keeps ``db_constraint=False`` in the model state, so Django never
    tries to create the constraint a second time.
    """

    def __init__(self, model_name: str, field_name: str, name: str) -> None:
        self.model_name = model_name
        self.field_name = field_name
        self.name = name

    def describe(self) -> str:
        return f"Add foreign key {self.name} on {self.model_name}.{self.field_name} NOT VALID"

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        meta = _table(app_label, self.model_name, to_state)
        field = meta.get_field(self.field_name)
        target = field.target_field
        table = meta.db_table
        if not _collecting(schema_editor) and (
            catalog.constraint_validated(schema_editor.connection, table, self.name) is not None
        ):
            return
        quote = schema_editor.quote_name
        schema_editor.execute(
            f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(self.name)} "
            f"FOREIGN KEY ({quote(field.column)}) "
            f"REFERENCES {quote(target.model._meta.db_table)} ({quote(target.column)}) "
            "DEFERRABLE INITIALLY DEFERRED NOT VALID"
        )

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        table = _table(app_label, self.model_name, from_state).db_table
        quote = schema_editor.quote_name
        schema_editor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT IF EXISTS {quote(self.name)}")


class ValidateConstraint(_DjangoValidateConstraint):
    """Django's ValidateConstraint (a scan under SHARE UPDATE EXCLUSIVE, which lets writes
    through), re-runnable: a constraint already validated is not scanned again."""

    phase = Phase.EXPAND
    reduces_to_sql = False

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        table = _table(app_label, self.model_name, from_state).db_table
        if not _collecting(schema_editor) and catalog.constraint_validated(
            schema_editor.connection, table, self.name
        ):
            return
        super().database_forwards(app_label, schema_editor, from_state, to_state)


class SetNotNull(Operation):
    """Make a column NOT NULL without a long ACCESS EXCLUSIVE scan.

    CHECK (col IS NOT NULL) NOT VALID, then NULLs backfilled in batches (each
    its own transaction), VALIDATE, SET NOT NULL (PostgreSQL 12+ trusts the
    validated check and skips the scan), and the check is dropped. The previous
    release may still write NULLs, so this is a contract operation.
    """

    phase = Phase.CONTRACT
    requires_non_atomic = True
    reduces_to_sql = False

    def __init__(
        self, model_name: str, field_name: str, backfill: Any = None, batch_size: int = 5000
    ) -> None:
        self.model_name = model_name
        self.field_name = field_name
        self.backfill = backfill
        self.batch_size = batch_size

    def describe(self) -> str:
        return f"Make {self.model_name}.{self.field_name} NOT NULL through a validated check"

    def state_forwards(self, app_label: str, state: Any) -> None:
        field = state.models[app_label, self.model_name.lower()].fields[self.field_name]
        _, _, args, kwargs = field.deconstruct()
        kwargs["null"] = False
        state.alter_field(
            app_label, self.model_name.lower(), self.field_name, type(field)(*args, **kwargs), True
        )

    def _statements(self, meta: Any, schema_editor: Any) -> dict[str, str]:
        quote = schema_editor.quote_name
        column = meta.get_field(self.field_name).column
        table, pk = quote(meta.db_table), quote(meta.pk.column)
        check = quote(self.check_name(meta.db_table, column))
        return {
            "check": (
                f"ALTER TABLE {table} ADD CONSTRAINT {check} CHECK ({quote(column)} IS NOT NULL) NOT VALID"
            ),
            "backfill": (
                f"UPDATE {table} SET {quote(column)} = %s WHERE {pk} IN (SELECT {pk} FROM {table} "  # noqa: S608
                f"WHERE {quote(column)} IS NULL LIMIT {int(self.batch_size)} FOR UPDATE SKIP LOCKED)"
            ),
            "validate": f"ALTER TABLE {table} VALIDATE CONSTRAINT {check}",
            "set_not_null": f"ALTER TABLE {table} ALTER COLUMN {quote(column)} SET NOT NULL",
            "drop_check": f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {check}",
        }

    @staticmethod
    def check_name(table: str, column: str) -> str:
        return f"{table}_{column}_notnull_check"[-MAX_IDENTIFIER:]

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        meta = _table(app_label, self.model_name, from_state)
        sql = self._statements(meta, schema_editor)
        if _collecting(schema_editor):
            for key in ("check", "validate", "set_not_null", "drop_check"):
                schema_editor.execute(sql[key])
            return
        _ensure_not_in_transaction(self, schema_editor)
        connection = schema_editor.connection
        column = meta.get_field(self.field_name).column
        if not catalog.column_is_not_null(connection, meta.db_table, column):
            check = self.check_name(meta.db_table, column)
            if catalog.constraint_validated(connection, meta.db_table, check) is None:
                schema_editor.execute(sql["check"])
            if self.backfill is not None:
                self._backfill(connection, sql["backfill"])
            if not catalog.constraint_validated(connection, meta.db_table, check):
                schema_editor.execute(sql["validate"])
            schema_editor.execute(sql["set_not_null"])
        schema_editor.execute(sql["drop_check"])

    def _backfill(self, connection: Any, update: str) -> None:
        while True:
            with connection.cursor() as cursor:
                cursor.execute(update, [self.backfill])
                if cursor.rowcount == 0:
                    return

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        meta = _table(app_label, self.model_name, to_state)
        quote = schema_editor.quote_name
        column = meta.get_field(self.field_name).column
        schema_editor.execute(
            f"ALTER TABLE {quote(meta.db_table)} ALTER COLUMN {quote(column)} DROP NOT NULL"
        )


class AddIndexConcurrently(_DjangoAddIndexConcurrently):
    """Django's AddIndexConcurrently, re-runnable: an invalid leftover index is dropped and rebuilt."""

    phase = Phase.EXPAND

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if not _collecting(schema_editor):
            state = catalog.index_state(schema_editor.connection, self.index.name)
            if state is catalog.IndexState.VALID:
                return
            if state is catalog.IndexState.INVALID:
                self._ensure_not_in_transaction(schema_editor)
                schema_editor.execute(
                    f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(self.index.name)}"
                )
        super().database_forwards(app_label, schema_editor, from_state, to_state)
