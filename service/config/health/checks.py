"""Readiness decided from what the probes observed; no I/O here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

Node = tuple[str, str]


@dataclass(frozen=True)
class CodeMigration:
    """One migration of this code's graph, as readiness sees it."""

    replaces: tuple[Node, ...] = ()
    # Expand migrations run before a rollout, so the code may rely on them;
    # contract migrations run only after it has proven itself.
    expand: bool = True


def unapplied_migrations(code: Mapping[Node, CodeMigration], applied: set[Node]) -> list[str]:
    """Migrations this code needs that the database lacks, as `app.name`.

    Only expand migrations count: in a phased release the new code serves
    before its contract migrations run. An app with nothing applied is new,
    and `migrate_phase expand` applies all of its migrations, so all of them
    count. A squashed migration counts as applied when all it replaces are.
    Applied migrations the code does not know (a newer release expanded the
    schema first) are not this code's concern and are ignored.
    """
    apps_with_history = {app for app, _ in applied}
    missing = []
    for node, migration in code.items():
        if not migration.expand and node[0] in apps_with_history:
            continue
        replaced = migration.replaces
        if node in applied or (replaced and all(r in applied for r in replaced)):
            continue
        missing.append(f"{node[0]}.{node[1]}")
    return sorted(missing)


def readiness_reasons(*, database_error: str | None, missing_migrations: list[str]) -> list[str]:
    if database_error is not None:
        return [f"database unreachable: {database_error}"]
    if missing_migrations:
        shown = ", ".join(missing_migrations[:10])
        more = f" and {len(missing_migrations) - 10} more" if len(missing_migrations) > 10 else ""
        return [f"unapplied migrations: {shown}{more}"]
    return []
