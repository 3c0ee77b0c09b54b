"""KMock still has the private hooks the emulator uses: an upgrade that renames one fails here, loudly."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

import kmock
import pytest

from rollguard_emulator import RollguardEmulator, kmockbase

REPO = Path(__file__).resolve().parents[2]


def pinned_requirement() -> str:
    groups = tomllib.loads((REPO / "pyproject.toml").read_text())["dependency-groups"]
    (requirement,) = [r for r in groups["sandbox"] if isinstance(r, str) and r.startswith("kmock")]
    return requirement


def test_kmock_is_pinned_to_one_minor_version_and_that_one_is_installed():
    major, minor, high_major, high_minor = re.fullmatch(
        r"kmock>=(\d+)\.(\d+),<(\d+)\.(\d+)", pinned_requirement()
    ).groups()
    installed = importlib.metadata.version("kmock")

    assert (high_major, int(high_minor)) == (major, int(minor) + 1)
    assert re.match(rf"{major}\.{minor}(\.|$)", installed), (
        f"kmock {installed} is installed but pyproject.toml pins {pinned_requirement()}"
    )


def test_every_private_name_the_adapter_uses_is_there():
    missing = kmockbase.missing_names(kmock.KubernetesEmulator())

    assert missing == [], (
        f"kmock {importlib.metadata.version('kmock')} lacks {missing}, which "
        f"operator/rollguard_emulator/kmockbase.py uses; it is written for {pinned_requirement()}"
    )


def test_a_vanished_private_hook_stops_the_emulator_with_a_message_naming_the_pin(monkeypatch):
    monkeypatch.delattr(kmock.KubernetesEmulator, "_serve_fetch")

    with pytest.raises(kmockbase.KmockChanged) as error:
        RollguardEmulator()

    message = str(error.value)
    assert "_serve_fetch" in message
    assert f"kmock {importlib.metadata.version('kmock')}" in message
    assert "pinned in pyproject.toml" in message


async def test_merge_patches_go_through_kmocks_own_dialect():
    merged = kmockbase.merge_patch({"a": {"b": 1, "c": 2}}, {"a": {"b": None, "d": 3}})

    assert merged == {"a": {"c": 2, "d": 3}}
