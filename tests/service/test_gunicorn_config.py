"""gunicorn's settings follow the environment and keep PHI out of the access log."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

CONFIG = Path(__file__).resolve().parents[2] / "service" / "gunicorn.conf.py"


def _load(monkeypatch, **env):
    for name in ("HOST", "PORT", "GUNICORN_WORKERS", "WEB_CONCURRENCY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(CONFIG))


def test_defaults_bind_all_interfaces_on_8000_with_two_workers(monkeypatch):
    config = _load(monkeypatch)
    assert config["bind"] == "0.0.0.0:8000"
    assert config["workers"] == 2


def test_the_environment_overrides_bind_and_workers(monkeypatch):
    config = _load(monkeypatch, HOST="127.0.0.1", PORT="9001", GUNICORN_WORKERS="4")
    assert (config["bind"], config["workers"]) == ("127.0.0.1:9001", 4)


@pytest.mark.parametrize("leaky", ["%(r)s", "%(q)s", "%(a)s", "%(f)s", "{authorization}i", "%(U)s?"])
def test_the_access_log_has_no_query_string_or_request_headers(monkeypatch, leaky):
    assert leaky not in _load(monkeypatch)["access_log_format"]


def test_logs_are_json_and_need_no_home_directory(monkeypatch):
    config = _load(monkeypatch)
    assert config["control_socket_disable"] is True
    assert config["logconfig_dict"]["formatters"]["json"]["()"] == "config.logging.JsonFormatter"
    assert config["access_log_format"].startswith("{")
