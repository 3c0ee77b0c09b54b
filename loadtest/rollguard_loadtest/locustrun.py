"""Locust always runs in a process of its own: importing it patches the standard library with gevent."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

LOADTEST_DIR = Path(__file__).resolve().parents[1]
LOCUSTFILE = LOADTEST_DIR / "locustfile.py"
BENCH_LOCUSTFILE = LOADTEST_DIR / "bench_locustfile.py"


def locust_command(
    *,
    host: str,
    users: int,
    spawn_rate: float,
    run_time: str,
    csv_prefix: Path,
    html: Path | None = None,
    locustfile: Path = LOCUSTFILE,
    user_classes: Sequence[str] = (),
) -> list[str]:
    """The headless command line the operator runs in the cluster, plus the local CSV and HTML reports."""
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(locustfile),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(spawn_rate),
        "--run-time",
        run_time,
        "--host",
        host,
        "--only-summary",
        "--csv",
        str(csv_prefix),
    ]
    if html is not None:
        command += ["--html", str(html)]
    return [*command, *user_classes]


def run_locust(
    command: Sequence[str], env: Mapping[str, str], timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (our own command line)
        list(command), env=dict(env), capture_output=True, text=True, timeout=timeout, check=False
    )
