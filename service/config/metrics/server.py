"""The metrics port, served by the gunicorn master (hooks in gunicorn.conf.py).

Each worker writes its counts to files of PROMETHEUS_MULTIPROC_DIR; the master
reads and sums them on every scrape, so one scrape of a pod sees every worker,
recycled ones included (folded into one archive: `archive.py`). The port is
not the API's: the NetworkPolicy opens it only to the monitoring namespace,
and a scrape never waits behind API requests.

Nothing here imports Django, and prometheus_client is imported only after the
directory is in the environment: it chooses where values live when imported.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
PORT_ENV = "METRICS_PORT"
HOST_ENV = "METRICS_HOST"


def metrics_address(environ: MutableMapping[str, str]) -> tuple[str, int]:
    """Where to serve: METRICS_HOST (else HOST, as the API binds) and METRICS_PORT.

    Port 0 (unset, empty or "0") serves no metrics.
    """
    raw = environ.get(PORT_ENV, "").strip()
    host = environ.get(HOST_ENV) or environ.get("HOST", "0.0.0.0")  # noqa: S104 - as the API's own bind
    return host, int(raw) if raw else 0


def prepare_directory(environ: MutableMapping[str, str]) -> Path:
    """An empty PROMETHEUS_MULTIPROC_DIR, put in `environ` for the workers to inherit.

    The files of a previous run (a restarted container keeps its emptyDir)
    belong to dead processes: they are removed, so counts start from zero as
    a restarted process's counters do.
    """
    given = environ.get(MULTIPROC_ENV, "").strip()
    if given:
        directory = Path(given)
        if directory.exists():
            shutil.rmtree(directory)
        directory.mkdir(parents=True)
    else:
        directory = Path(tempfile.mkdtemp(prefix="claims-api-metrics-"))
    environ[MULTIPROC_ENV] = str(directory)
    return directory


def serve(host: str, port: int, directory: Path) -> Any:
    """Start serving the workers' summed metrics on host:port in a daemon thread; the server."""
    from prometheus_client import CollectorRegistry, start_http_server

    from config.metrics.archive import ArchiveSafeCollector

    registry = CollectorRegistry()
    registry.register(ArchiveSafeCollector(directory))
    server, _thread = start_http_server(port, addr=host, registry=registry)
    return server


def start(environ: MutableMapping[str, str], log: Any) -> Path | None:
    """gunicorn's `when_ready`, before any worker starts: the directory, then the port.

    The API must serve without its metrics rather than not at all: a
    directory that cannot be made or a port that cannot be bound is logged.
    """
    host, port = metrics_address(environ)
    if not port:
        return None
    try:
        directory = prepare_directory(environ)
        serve(host, port, directory)
    except OSError as error:
        log.error("metrics not served on %s:%s: %s", host, port, error)
        return None
    log.info("metrics served on http://%s:%s/metrics", host, port)
    return directory


def worker_exited(pid: int, environ: MutableMapping[str, str]) -> None:
    """gunicorn's `child_exit`: fold the worker's counts into the archive, so they stay in the sums."""
    directory = environ.get(MULTIPROC_ENV)
    if not directory:
        return
    from prometheus_client import multiprocess

    from config.metrics.archive import LOCK, fold

    multiprocess.mark_process_dead(pid, directory)
    with LOCK:
        fold(Path(directory), pid)
