"""The metrics port of the live API: every gunicorn worker's counts, summed by the master."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from exposition import grew, samples

from config.metrics.instruments import REQUEST_DURATION, REQUESTS_TOTAL

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REQUESTS = 6


def _get(url: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Connection": "close"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


def _scrape(live, name: str):
    status, text = _get(live.metrics_url)
    assert status == 200
    return samples(text, name)


def test_the_metrics_port_sums_the_counts_of_every_worker(live):
    before = _scrape(live, REQUESTS_TOTAL)
    durations_before = _scrape(live, f"{REQUEST_DURATION}_count")

    statuses = [_get(f"{live.url}/health/live")[0] for _ in range(REQUESTS)]

    # Two workers, each recycled after 3 requests: at least two processes
    # answered, and the master's sum over their files is every request.
    assert statuses == [200] * REQUESTS
    series = (("method", "GET"), ("revision", "rollguard_live"), ("status", "200"), ("view", "health-live"))
    assert grew(before, _scrape(live, REQUESTS_TOTAL)) == {series: REQUESTS}
    assert grew(durations_before, _scrape(live, f"{REQUEST_DURATION}_count")) == {series: REQUESTS}
    # The exited workers' counts were folded into the archive: the folder
    # holds it and the two live workers' files, however many workers ran.
    writers = {path.stem.split("_", 1)[1] for path in live.metrics_dir.glob("counter_*.db")}
    assert "archive" in writers
    assert len(writers - {"archive"}) <= 2


def test_the_api_port_does_not_serve_metrics(live):
    assert _get(f"{live.url}/metrics")[0] == 404
