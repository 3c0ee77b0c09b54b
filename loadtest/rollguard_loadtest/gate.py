"""The threshold gate: at the end of a Locust run, judge it and publish the summary.

`register(events)` is called by the locustfile. A master tallies the requests
each worker reports (the summary's `workers`). When Locust quits, the gate
summarizes the run, sets the process exit code (0 passed, 1 failed) and writes
the summary to stdout, to `$ROLLGUARD_RESULTS_DIR/summary.json` and to the
termination message file, where the operator reads it from the pod status.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from rollguard_loadtest.summary import encode, fit, summarize, validate
from rollguard_loadtest.thresholds import Thresholds

RESULTS_DIR_ENV = "ROLLGUARD_RESULTS_DIR"
TERMINATION_LOG_ENV = "ROLLGUARD_TERMINATION_LOG"
DEFAULT_TERMINATION_LOG = Path("/dev/termination-log")
SUMMARY_FILE = "summary.json"

log = logging.getLogger(__name__)


def termination_log(environ: Mapping[str, str] = os.environ) -> Path | None:
    """Where the termination message goes: the env override, else Kubernetes' default when writable."""
    if configured := environ.get(TERMINATION_LOG_ENV, "").strip():
        return Path(configured)
    if DEFAULT_TERMINATION_LOG.exists() and os.access(DEFAULT_TERMINATION_LOG, os.W_OK):
        return DEFAULT_TERMINATION_LOG
    return None


def publish(
    summary: Mapping[str, Any], *, environ: Mapping[str, str] = os.environ, stdout: TextIO = sys.stdout
) -> None:
    """Write the summary to stdout, the results folder and the termination message.

    A summary that breaks its schema is a bug of the gate: it raises rather than
    write what the operator would refuse.
    """
    fitted = fit(summary)
    validate(fitted)
    text = encode(fitted)
    print(text, file=stdout, flush=True)
    if results_dir := environ.get(RESULTS_DIR_ENV, "").strip():
        folder = Path(results_dir)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / SUMMARY_FILE).write_text(text + "\n", encoding="utf-8")
    if (path := termination_log(environ)) is not None:
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as error:
            # The verdict is already on stdout; a missing message must not hide it.
            log.warning("could not write the termination message to %s: %s", path, error)


class WorkerTally:
    """The requests each worker reported to the master (`worker_report` carries each report's increment)."""

    def __init__(self) -> None:
        self.requests: dict[str, int] = {}

    def record(self, client_id: str, data: Mapping[str, Any]) -> None:
        total = data.get("stats_total") or {}
        added = int(total.get("num_requests", 0)) if isinstance(total, Mapping) else 0
        self.requests[client_id] = self.requests.get(client_id, 0) + added


def judge(
    environment: Any, environ: Mapping[str, str] = os.environ, tally: WorkerTally | None = None
) -> dict[str, Any] | None:
    """Summarize the run in `environment`, set its exit code and publish; workers leave it to the master."""
    from locust.runners import WorkerRunner

    if isinstance(environment.runner, WorkerRunner):
        return None
    summary = summarize(
        environment.stats,
        Thresholds.from_env(environ),
        requests_by_worker=tally.requests if tally is not None else None,
    )
    environment.process_exit_code = 0 if summary["verdict"] == "passed" else 1
    publish(summary, environ=environ)
    return summary


def register(events: Any) -> None:
    """Attach the gate to Locust's `quitting` event; bad thresholds fail the run before it starts."""
    Thresholds.from_env()
    tally = WorkerTally()

    def on_worker_report(client_id: str, data: Mapping[str, Any], **_: Any) -> None:
        tally.record(client_id, data)

    def on_quitting(environment: Any, **_: Any) -> None:
        judge(environment, tally=tally)

    events.worker_report.add_listener(on_worker_report)
    events.quitting.add_listener(on_quitting)
