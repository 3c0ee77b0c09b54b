"""One user class per benchmarked endpoint, for `make bench-api`.

The benchmark runs one class at a time (`locust -f bench_locustfile.py ClaimListing ...`)
so each endpoint's figures are its own. Users never wait between requests: at
fixed concurrency the figures say how much the server can do, not how fast
people click. Tokens come from ROLLGUARD_API_TOKENS; the patient and payer ids
of each tenant from the JSON file named by ROLLGUARD_BENCH_FIXTURE
(`{token: {"patients": [...], "payers": [...]}}`), so no setup request is counted.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import random
from pathlib import Path
from typing import Any

from locust import HttpUser, constant, task

from rollguard_loadtest.billing_data import claim_payload
from rollguard_loadtest.tokens import load_tokens

_TOKENS = itertools.cycle(load_tokens())
_FIXTURE: dict[str, Any] = (
    json.loads(Path(os.environ["ROLLGUARD_BENCH_FIXTURE"]).read_text(encoding="utf-8"))
    if os.environ.get("ROLLGUARD_BENCH_FIXTURE")
    else {}
)


class BenchUser(HttpUser):
    abstract = True
    wait_time = constant(0)

    def on_start(self) -> None:
        token = next(_TOKENS)
        self.client.headers["Authorization"] = f"Token {token}"
        self.rng = random.Random()  # noqa: S311 (request data, not secrets)
        self.today = dt.date.today()
        tenant = _FIXTURE.get(token, {})
        self.patients: list[Any] = tenant.get("patients", [])
        self.payers: list[Any] = tenant.get("payers", [])

    def expect(self, resp: Any, status: int) -> None:
        if resp.status_code != status:
            resp.failure(f"expected {status}, got {resp.status_code}: {resp.text[:200]}")


class LiveProbe(BenchUser):
    """The floor: a request that touches neither the database nor authentication."""

    @task
    def live(self) -> None:
        with self.client.get("/health/live", catch_response=True) as resp:
            self.expect(resp, 200)


class ClaimListing(BenchUser):
    """A filtered page of claims by cursor (newest number first): a status, a payer and a 90-day window."""

    @task
    def list_claims(self) -> None:
        params: dict[str, Any] = {
            "status": self.rng.choice(("submitted", "accepted", "paid", "denied")),
            "service_date_after": (self.today - dt.timedelta(days=90)).isoformat(),
            "service_date_before": self.today.isoformat(),
            "page_size": 25,
        }
        if self.payers:
            params["payer"] = self.rng.choice(self.payers)
        with self.client.get(
            "/api/v2/claims/", params=params, name="/api/v2/claims/?[filters]", catch_response=True
        ) as resp:
            self.expect(resp, 200)


class PayerSummary(BenchUser):
    """The per-payer aggregate over every claim of the tenant."""

    @task
    def summary(self) -> None:
        with self.client.get("/api/v1/payers/summary/", catch_response=True) as resp:
            self.expect(resp, 200)


class ClaimCreation(BenchUser):
    """A new claim: validation, the insert, and its audit event."""

    @task
    def create(self) -> None:
        payload = claim_payload(
            self.rng,
            patient=self.rng.choice(self.patients) if self.patients else None,
            payer=self.rng.choice(self.payers) if self.payers else None,
            today=self.today,
        )
        with self.client.post("/api/v1/claims/", json=payload, catch_response=True) as resp:
            self.expect(resp, 201)
