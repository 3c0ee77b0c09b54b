"""Where the gunicorn master serves the metrics, and that a port it cannot have never stops the API."""

from __future__ import annotations

import logging
import socket

import pytest

from config.metrics.server import MULTIPROC_ENV, metrics_address, prepare_directory, start


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, ("0.0.0.0", 0)),
        ({"METRICS_PORT": "0"}, ("0.0.0.0", 0)),
        ({"HOST": "127.0.0.1", "METRICS_PORT": "9100"}, ("127.0.0.1", 9100)),
        ({"HOST": "127.0.0.1", "METRICS_HOST": "0.0.0.0", "METRICS_PORT": " 9200 "}, ("0.0.0.0", 9200)),
    ],
)
def test_the_address_follows_the_environment_and_port_zero_serves_nothing(environ, expected):
    assert metrics_address(environ) == expected


def test_a_given_directory_is_emptied_of_a_previous_runs_files(tmp_path):
    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_4242.db").write_bytes(b"stale")
    environ = {MULTIPROC_ENV: str(directory)}

    assert prepare_directory(environ) == directory
    assert list(directory.iterdir()) == []


def test_without_a_directory_a_fresh_one_is_made_for_the_workers():
    environ: dict[str, str] = {}
    directory = prepare_directory(environ)
    try:
        assert environ[MULTIPROC_ENV] == str(directory)
        assert directory.is_dir()
        assert list(directory.iterdir()) == []
    finally:
        directory.rmdir()


def test_a_port_already_taken_is_logged_and_the_api_starts_anyway(tmp_path, caplog):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        environ = {"HOST": "127.0.0.1", "METRICS_PORT": str(port), MULTIPROC_ENV: str(tmp_path / "m")}

        with caplog.at_level(logging.ERROR):
            assert start(environ, logging.getLogger("gunicorn.error")) is None

    assert f"metrics not served on 127.0.0.1:{port}" in caplog.text


def test_no_port_makes_no_directory():
    environ: dict[str, str] = {}
    assert start(environ, logging.getLogger("gunicorn.error")) is None
    assert MULTIPROC_ENV not in environ
