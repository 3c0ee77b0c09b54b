"""Folding the counts of an exited gunicorn worker into one archive file per metric type.

Each worker writes its own files (`counter_<pid>.db`, `histogram_<pid>.db`), and
gunicorn recycles workers every GUNICORN_MAX_REQUESTS requests. Left alone, a
pod would keep two files per worker it ever ran: 200 recycled workers leave 400
files, 19 MB on disk (the pod's /tmp is a 64 Mi emptyDir) and a 251 ms scrape,
so a busy pod would be evicted within a day. The master folds an exited
worker's values into `<type>_archive.db` instead and removes its files, so the
folder holds the archive and the live workers only, and every sum is unchanged.

Folding and scraping both run in the master (`child_exit` and the metrics
thread) under `LOCK`: a scrape never sees a worker's counts twice or not at all.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.multiprocess import MultiProcessCollector

FOLDED_TYPES = ("counter", "histogram")
LOCK = threading.Lock()


def fold(directory: Path, pid: int) -> None:
    """Add the exited worker `pid`'s counters and histograms to the archive, then remove its files."""
    for kind in FOLDED_TYPES:
        source = directory / f"{kind}_{pid}.db"
        if not source.exists():
            continue
        archive = MmapedDict(str(directory / f"{kind}_archive.db"))
        try:
            for key, value, timestamp, _ in MmapedDict.read_all_values_from_file(str(source)):
                current, _ = archive.read_value(key)
                archive.write_value(key, current + value, timestamp)
        finally:
            archive.close()
        source.unlink()


class ArchiveSafeCollector:
    """The summed values of every file in the folder, read while no worker is being folded."""

    def __init__(self, directory: Path) -> None:
        self._files = MultiProcessCollector(None, path=str(directory))

    def collect(self) -> Iterable[Any]:
        with LOCK:
            return list(self._files.collect())
