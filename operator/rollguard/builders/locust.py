"""The Locust command line, built in one place.

The operator's master and worker Jobs run these arguments after `locust`; the
local runs (`make loadtest`, the tests, the API benchmark) run the same
arguments after `python -m locust`, plus their CSV and HTML reports
(rollguard_loadtest.locustrun).
"""

from __future__ import annotations


def headless_args(*, locustfile: str, users: int, spawn_rate: float, run_time: str, host: str) -> list[str]:
    """A headless run of `users` users spawned at `spawn_rate` per second for `run_time` (Locust's
    format: `30s`, `2m`), printing only the summary at the end (the gate prints its verdict)."""
    return [
        "-f",
        locustfile,
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
    ]


def master_args(workers: int) -> list[str]:
    """What turns a headless run into the master of `workers` workers; nothing for 0."""
    return ["--master", "--expect-workers", str(workers)] if workers > 0 else []


def worker_args(*, locustfile: str, master_host: str) -> list[str]:
    return ["-f", locustfile, "--worker", "--master-host", master_host]
