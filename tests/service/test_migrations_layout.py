"""The migrations match the models, and the claim-number constraint stands alone."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import migrations, models
from django.db.migrations.loader import MigrationLoader

from phased_migrations.operations import AttachUniqueIndexAsConstraint, CreateUniqueIndexConcurrently

pytestmark = pytest.mark.integration


def test_models_and_migrations_agree(db):
    call_command("makemigrations", "--check", "--dry-run", stdout=io.StringIO())


def _state_operations(migration):
    for op in migration.operations:
        if isinstance(op, migrations.SeparateDatabaseAndState):
            yield from op.state_operations
        else:
            yield op


def _unique_number_ops(migration):
    return [
        op
        for op in _state_operations(migration)
        if isinstance(getattr(op, "constraint", None), models.UniqueConstraint)
        and tuple(op.constraint.fields) == ("customer", "number")
    ]


def test_the_claim_number_constraint_has_its_own_migration():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    initial = loader.get_migration("billing", "0001_initial")
    own = loader.get_migration("billing", "0002_claim_number_unique")
    assert _unique_number_ops(initial) == []
    assert len(_unique_number_ops(own)) == 1
    assert len(own.operations) == 1


def test_the_claim_number_constraint_is_built_concurrently_then_attached():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    own = loader.get_migration("billing", "0002_claim_number_unique")
    (operation,) = own.operations
    assert own.atomic is False
    assert [type(op) for op in operation.database_operations] == [
        CreateUniqueIndexConcurrently,
        AttachUniqueIndexAsConstraint,
    ]
