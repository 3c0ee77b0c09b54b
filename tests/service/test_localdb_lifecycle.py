"""The embedded server's lifecycle: a start that fails says why, a stop returns once it is gone."""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import localdb

pytestmark = pytest.mark.integration


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # Not under pytest's tmp_path: its 0700 parents would shut out the unprivileged server user.
    with tempfile.TemporaryDirectory(prefix="rollguard-pglife-") as folder:
        os.chmod(folder, 0o755)
        yield Path(folder) / "data"


def test_a_start_on_a_taken_port_fails_naming_it_and_a_stop_leaves_no_postmaster(data_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = localdb.LocalPostgres(data_dir=data_dir, port=port)
        with pytest.raises(RuntimeError, match=rf"127\.0\.0\.1:{port} did not start.*(bind|in use)"):
            server.start()
    assert not (data_dir / "postmaster.pid").exists()

    server = localdb.LocalPostgres(data_dir=data_dir, port=localdb.free_port())
    server.start()
    pid = int((data_dir / "postmaster.pid").read_text().split()[0])
    server.stop()

    stat = Path(f"/proc/{pid}/stat")
    assert not stat.exists() or stat.read_text().rsplit(") ", 1)[1][0] == "Z", "stop() returned early"
    server.stop()  # a stopped server is left alone
