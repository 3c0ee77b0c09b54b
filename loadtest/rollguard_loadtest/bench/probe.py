"""SQL statements per request, measured one request at a time.

Under load, statements summed by PostgreSQL and divided by Locust's request
count disagree at the edges of a run (requests in flight when Locust stops, or
answered after its last report), so `queries` comes from a quiet probe instead:
`PROBE_REQUESTS` sequential requests per page size, counted by
pg_stat_statements (`bench.sqlcount`), each answered with the expected status,
once the server has run no statement for `QUIET_SECONDS`.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rollguard_loadtest.bench import sqlcount
from rollguard_loadtest.billing_data import claim_payload

PROBE_REQUESTS = 10
# gunicorn still answers the requests Locust left in its listen queue when it stopped.
QUIET_SECONDS = 0.5
QUIET_ROUNDS = 60
#: The page sizes whose statement counts must agree (no query per row).
PAGE_SIZES = (1, 100)


@dataclass(frozen=True)
class Probe:
    """One request of a benchmarked endpoint. `path` may name `{page_size}`, `{payer}` (the tenant's
    first payer) and `{after}`/`{before}` (the last 90 days); POST sends a new claim."""

    method: str
    path: str

    @property
    def paged(self) -> bool:
        return "{page_size}" in self.path


def _send(api_url: str, probe: Probe, token: str, fixture: Mapping[str, Any], page_size: int) -> None:
    rng = random.Random(page_size)  # noqa: S311 (request data, not secrets)
    body = None
    expected = 200
    if probe.method == "POST":
        payload = claim_payload(
            rng,
            patient=rng.choice(fixture["patients"]),
            payer=rng.choice(fixture["payers"]),
            today=dt.date.today(),
        )
        body = json.dumps(payload).encode()
        expected = 201
    today = dt.date.today()
    path = probe.path.format(
        page_size=page_size,
        payer=fixture["payers"][0],
        after=(today - dt.timedelta(days=90)).isoformat(),
        before=today.isoformat(),
    )
    request = urllib.request.Request(  # noqa: S310 (the local API)
        api_url + path,
        data=body,
        method=probe.method,
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310
        resp.read()
        if resp.status != expected:
            raise RuntimeError(f"{probe.method} {path} answered {resp.status}, expected {expected}")


def wait_quiet(admin_url: str, database: str) -> None:
    """Return once `database` ran no statement for `QUIET_SECONDS` (the server drained its queue)."""
    for _ in range(QUIET_ROUNDS):
        sqlcount.reset(admin_url)
        time.sleep(QUIET_SECONDS)
        if sqlcount.statements(admin_url, database) == 0:
            return
    raise RuntimeError(
        f"{database} kept running statements for {QUIET_ROUNDS * QUIET_SECONDS:g}s after the load"
    )


def statements_per_request(
    api_url: str,
    admin_url: str,
    database: str,
    probe: Probe,
    *,
    token: str,
    fixture: Mapping[str, Any],
) -> dict[int, float]:
    """Statements per request at each of `PAGE_SIZES` (one entry, keyed 0, for an unpaged endpoint)."""
    wait_quiet(admin_url, database)
    counts: dict[int, float] = {}
    for page_size in PAGE_SIZES if probe.paged else (0,):
        sqlcount.reset(admin_url)
        for _ in range(PROBE_REQUESTS):
            _send(api_url, probe, token, fixture, page_size)
        counts[page_size] = sqlcount.statements(admin_url, database) / PROBE_REQUESTS
    return counts
