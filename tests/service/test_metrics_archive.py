"""An exited worker's counts folded into the archive: every sum unchanged, its files gone."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.mmap_dict import MmapedDict, mmap_key

from config.metrics.archive import ArchiveSafeCollector, fold


def _write(directory, kind, pid, samples):
    """A worker's file as prometheus_client's multiprocess mode writes it: (metric, sample, view, value)."""
    db = MmapedDict(str(directory / f"{kind}_{pid}.db"))
    for name, sample, view, value in samples:
        db.write_value(mmap_key(name, sample, ["view"], [view], "help"), value, 0.0)
    db.close()


def _exposition(directory):
    registry = CollectorRegistry()
    registry.register(ArchiveSafeCollector(directory))
    return generate_latest(registry).decode()


def test_folding_keeps_every_sum_and_leaves_the_archive_and_the_live_workers(tmp_path):
    total, duration = "claims_api_http_requests", "claims_api_http_request_duration_seconds"
    for pid, (listed, broken) in {101: (3, 1), 102: (4, 0), 103: (5, 2)}.items():
        _write(
            tmp_path,
            "counter",
            pid,
            [
                (total, f"{total}_total", "claim-list", listed),
                (total, f"{total}_total", "claim-detail", broken),
            ],
        )
        _write(tmp_path, "histogram", pid, [(duration, f"{duration}_sum", "claim-list", listed / 10)])
    before = _exposition(tmp_path)

    fold(tmp_path, 101)
    fold(tmp_path, 102)

    assert _exposition(tmp_path) == before
    assert 'claims_api_http_requests_total{view="claim-list"} 12.0' in before
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "counter_103.db",
        "counter_archive.db",
        "histogram_103.db",
        "histogram_archive.db",
    ]


def test_a_worker_that_wrote_nothing_folds_to_nothing(tmp_path):
    fold(tmp_path, 4242)

    assert list(tmp_path.iterdir()) == []
