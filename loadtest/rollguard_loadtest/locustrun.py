"""Locust always runs in a process of its own: importing it patches the standard library with gevent.

The command line is the operator's own (rollguard.builders.locust), run with this
interpreter and with the local CSV and HTML reports added; `make loadtest` runs it
through `python -m rollguard_loadtest.locustrun`. This module never ships in the
load-test image, which runs `locust` directly.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from rollguard.builders.locust import headless_args

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
    extra: Sequence[str] = (),
) -> list[str]:
    """The headless command line the operator runs in the cluster, plus the local CSV and HTML reports."""
    command = [
        sys.executable,
        "-m",
        "locust",
        *headless_args(
            locustfile=str(locustfile), users=users, spawn_rate=spawn_rate, run_time=run_time, host=host
        ),
        "--csv",
        str(csv_prefix),
    ]
    if html is not None:
        command += ["--html", str(html)]
    return [*command, *extra, *user_classes]


def run_locust(
    command: Sequence[str], env: Mapping[str, str], timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (our own command line)
        list(command), env=dict(env), capture_output=True, text=True, timeout=timeout, check=False
    )


def main(argv: Sequence[str] | None = None) -> int:
    """`make loadtest`: one headless run with its reports; Locust's output goes to --log."""
    parser = argparse.ArgumentParser(description="One headless Locust run of the suite, with its reports.")
    parser.add_argument("--host", required=True)
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--spawn-rate", type=float, required=True)
    parser.add_argument("--run-time", required=True)
    parser.add_argument("--results", type=Path, required=True, help="folder of the CSV, HTML and log")
    parser.add_argument("--tokens-file", default="")
    args = parser.parse_args(argv)
    command = locust_command(
        host=args.host,
        users=args.users,
        spawn_rate=args.spawn_rate,
        run_time=args.run_time,
        csv_prefix=args.results / "locust",
        html=args.results / "report.html",
        extra=["--tokens-file", args.tokens_file] if args.tokens_file else (),
    )
    with (args.results / "locust.log").open("w") as log:
        result = subprocess.run(  # noqa: S603 (our own command line)
            command, env=os.environ, stdout=log, stderr=subprocess.STDOUT, check=False
        )
    return result.returncode


if __name__ == "__main__":
    raise SystemExit(main())
