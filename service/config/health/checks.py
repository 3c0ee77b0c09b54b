"""Readiness decided from what the probes observed; no I/O here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

Node = tuple[str, str]


def unapplied_migrations(required: Mapping[Node, Iterable[Node]], applied: set[Node]) -> list[str]:
    """Migrations of this code's graph that the database lacks, as `app.name`.

    A squashed migration counts as applied when all it replaces are. Applied
    migrations the code does not know (a newer release expanded the schema
    first) are not this code's concern and are ignored.
    """
    missing = []
    for node, replaces in required.items():
        replaced = list(replaces)
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
