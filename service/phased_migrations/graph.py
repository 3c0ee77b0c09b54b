"""The migration graph of a database, classified: what is applied, what is not, and each phase."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.migrations import operations as ops
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader

from phased_migrations.classify import UnclassifiableMigration, classify
from phased_migrations.markers import Phase
from phased_migrations.planning import Entry, Key


@dataclass
class Graph:
    """Every migration in plan order, with its classification and direct dependencies."""

    executor: MigrationExecutor
    entries: list[Entry]
    parents: dict[Key, list[Key]]
    refusals: dict[Key, str]

    @property
    def unapplied(self) -> list[Entry]:
        return [e for e in self.entries if not e.applied]

    def migration(self, key: Key) -> Any:
        return self.executor.loader.graph.nodes[key]


def fields_before(loader: MigrationLoader, migration: Any) -> dict[tuple[str, str], Any]:
    """Fields touched by AlterField, as they were before `migration`; only computed when needed.

    `classify` judges an AlterField by comparing the field before and after it.
    """
    altered = [op for op in migration.operations if isinstance(op, ops.AlterField)]
    if not altered:
        return {}
    state = loader.project_state((migration.app_label, migration.name), at_end=False)
    found = {}
    for op in altered:
        model = state.models.get((migration.app_label, op.model_name_lower))
        if model and op.name in model.fields:
            found[(op.model_name_lower, op.name_lower)] = model.fields[op.name]
    return found


def _overrides() -> dict[str, Phase]:
    configured = getattr(settings, "PHASED_MIGRATIONS_PHASES", {})
    return {label: Phase(phase) for label, phase in configured.items()}


def load(database: str = "default") -> Graph:
    """Classify every migration known to the project against `database`."""
    executor = MigrationExecutor(connections[database])
    loader = executor.loader
    applied = set(loader.applied_migrations)
    plan_order = [m for m, _ in executor.migration_plan(loader.graph.leaf_nodes(), clean_start=True)]
    apps_with_history = {app for app, _ in applied}
    overrides = _overrides()
    entries: list[Entry] = []
    refusals: dict[Key, str] = {}
    for migration in plan_order:
        key = (migration.app_label, migration.name)
        try:
            found = classify(
                migration,
                fields_before(executor.loader, migration) if key not in applied else {},
                app_is_new=migration.app_label not in apps_with_history,
                override=overrides.get(f"{migration.app_label}.{migration.name}"),
            )
            phase, reason = found.phase, found.reason
        except UnclassifiableMigration as exc:
            refusals[key] = str(exc)
            phase, reason = Phase.CONTRACT, str(exc)
        entries.append(Entry(migration.app_label, migration.name, phase, reason, applied=key in applied))
    parents = {
        key: sorted(node.key for node in loader.graph.node_map[key].parents) for key in loader.graph.nodes
    }
    return Graph(executor=executor, entries=entries, parents=parents, refusals=refusals)


def unapplied_expand(database: str = "default") -> list[str]:
    """Labels of the expand migrations not yet applied: the schema the running code still waits for.

    A readiness probe can fail while this is non-empty; unapplied contract
    migrations never make the new code unready.
    """
    return [entry.label for entry in load(database).unapplied if entry.phase is Phase.EXPAND]
