"""Reading twelve-factor settings from the environment."""

from __future__ import annotations

import pytest

from config.env import env_bool, env_int, env_list, env_str


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("true", True), ("YES", True), ("on", True), ("0", False), ("off", False), ("", False)],
)
def test_env_bool(monkeypatch, raw, expected):
    monkeypatch.setenv("FLAG", raw)
    assert env_bool("FLAG", default=not expected) is expected


def test_env_bool_refuses_nonsense(monkeypatch):
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ValueError, match="FLAG='maybe' is not a boolean"):
        env_bool("FLAG", default=False)


def test_defaults_apply_when_unset(monkeypatch):
    for name in ("FLAG", "NUM", "HOSTS", "TEXT"):
        monkeypatch.delenv(name, raising=False)
    assert env_bool("FLAG", default=True) is True
    assert env_int("NUM", 7) == 7
    assert env_list("HOSTS", ["a"]) == ["a"]
    assert env_str("TEXT", "t") == "t"


def test_env_int(monkeypatch):
    monkeypatch.setenv("NUM", "42")
    assert env_int("NUM", 1) == 42
    monkeypatch.setenv("NUM", "  ")
    assert env_int("NUM", 1) == 1
    monkeypatch.setenv("NUM", "4x")
    with pytest.raises(ValueError, match="not an integer"):
        env_int("NUM", 1)


def test_env_list_splits_on_commas(monkeypatch):
    monkeypatch.setenv("HOSTS", " a.example.com, ,b.example.com ")
    assert env_list("HOSTS", []) == ["a.example.com", "b.example.com"]
