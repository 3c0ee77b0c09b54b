"""Which database role a process connects as.

The application role (`DATABASE_URL`) reads and writes rows only; the schema's
owner (`MIGRATION_DATABASE_URL`) runs the commands that change the schema or
load data in bulk. Pure: the caller passes in argv and the environment's URLs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

#: `manage.py` commands that connect as the owner when MIGRATION_DATABASE_URL is set.
# rollup_check compares every tenant's rollup, which row-level security hides from the application role.
OWNER_COMMANDS = frozenset({"migrate", "migrate_phase", "seed_demo", "rollup_check"})


def connection_url(argv: Sequence[str], *, application_url: str, migration_url: str) -> str:
    """The owner's URL for an owner command of `manage.py`, else the application role's."""
    is_manage = bool(argv) and Path(argv[0]).name == "manage.py"
    command = argv[1] if len(argv) > 1 else ""
    if migration_url and is_manage and command in OWNER_COMMANDS:
        return migration_url
    return application_url
