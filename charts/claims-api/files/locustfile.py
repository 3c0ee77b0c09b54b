"""Billing traffic against the rollguard claims API.

Three personas share the load the way a clinic's billing office does: clerks
work claim queues, open claims, look up patients, submit claims and move them
through adjudication; analysts read payer reports and the audit trail; a probe
checks readiness like a load balancer. Reads outnumber writes about six to one.

Every simulated user belongs to one tenant: it takes the next token of
ROLLGUARD_API_TOKENS (comma-separated, one per tenant) or of --tokens-file.
The threshold gate judges the run when Locust quits (see rollguard_loadtest.gate).

    locust -f loadtest/locustfile.py --headless -u 5 -r 5 -t 30s --host http://127.0.0.1:8000
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import os
import random
from collections.abc import Iterator
from typing import Any

from locust import HttpUser, LoadTestShape, between, constant, events, task
from locust.clients import ResponseContextManager

from rollguard_loadtest import gate
from rollguard_loadtest.billing_data import (
    claim_filters,
    claim_payload,
    next_status,
    patient_filters,
    summary_period,
    transition_payload,
)
from rollguard_loadtest.stages import STAGES_ENV, profile, stage_at
from rollguard_loadtest.tokens import load_tokens

gate.register(events)

_tokens: Iterator[str] = iter(())


@events.init_command_line_parser.add_listener
def _add_arguments(parser: Any) -> None:
    parser.add_argument(
        "--tokens-file",
        default=os.environ.get("ROLLGUARD_TOKENS_FILE", ""),
        help="seed_demo JSON or a comma-separated list of API tokens; ROLLGUARD_API_TOKENS wins when set",
    )


@events.init.add_listener
def _load_tokens(environment: Any, **_: Any) -> None:
    global _tokens
    options = environment.parsed_options
    tokens = load_tokens(getattr(options, "tokens_file", "") if options else "")
    logging.info("load test spreads its users over %d tenant token(s)", len(tokens))
    # Each process starts at a random tenant, so distributed workers with few users each still share them out.
    start = random.randrange(len(tokens))
    _tokens = itertools.cycle(tokens[start:] + tokens[:start])


def page_results(resp: ResponseContextManager) -> list[dict[str, Any]] | None:
    """The `results` of a paginated answer, or None after marking the response failed."""
    if resp.status_code != 200:
        resp.failure(f"expected 200, got {resp.status_code}: {resp.text[:200]}")
        return None
    try:
        body = resp.json()
    except ValueError:
        resp.failure("answer is not JSON")
        return None
    if not isinstance(body, dict) or not isinstance(body.get("results"), list) or "count" not in body:
        resp.failure("answer is not a page: expected count and results")
        return None
    return body["results"]


class TenantUser(HttpUser):
    """A member of one tenant's billing staff, signed in with that tenant's token."""

    abstract = True

    def on_start(self) -> None:
        self.rng = random.Random()
        self.today = dt.date.today()
        self.client.headers["Authorization"] = f"Token {next(_tokens)}"
        self.patients = self.ids("/api/v1/patients/", page_size=50)
        # Closed payers refuse new claims, so staff only ever pick active ones.
        self.payers = self.ids("/api/v1/payers/", page_size=50, is_active="true")
        self.claims = self.ids("/api/v1/claims/", page_size=50)

    def ids(self, path: str, **params: Any) -> list[Any]:
        with self.client.get(path, params=params, name=f"{path} [start]", catch_response=True) as resp:
            results = page_results(resp)
        return [row["id"] for row in results or [] if "id" in row]


class BillingClerk(TenantUser):
    """Works the claim queues of one tenant all day; the only persona that writes."""

    weight = 2
    wait_time = between(0.5, 2)

    def on_start(self) -> None:
        super().on_start()
        # Claims this user submitted and still moves forward: id -> (status, billed amount).
        self.in_adjudication: dict[Any, tuple[str, str]] = {}
        # The day starts with the claim left on the desk, so adjudication has work from the first minute.
        self.submit_claim()

    @task(6)
    def work_claim_queue(self) -> None:
        params = claim_filters(self.rng, payers=self.payers, patients=self.patients, today=self.today)
        with self.client.get(
            "/api/v1/claims/", params=params, name="/api/v1/claims/?[filters]", catch_response=True
        ) as resp:
            results = page_results(resp)
            if results is not None and any(row.get("status") != params["status"] for row in results):
                resp.failure(f"status filter {params['status']!r} let other statuses through")
        if results:
            self.claims = [row["id"] for row in results if "id" in row] or self.claims

    @task(4)
    def open_claim(self) -> None:
        if not self.claims:
            return
        claim_id = self.rng.choice(self.claims)
        with self.client.get(
            f"/api/v1/claims/{claim_id}/", name="/api/v1/claims/[id]/", catch_response=True
        ) as resp:
            if resp.status_code != 200:
                resp.failure(f"claim {claim_id}: expected 200, got {resp.status_code}")
            elif resp.json().get("id") != claim_id:
                resp.failure(f"asked for claim {claim_id}, got {resp.json().get('id')}")

    @task(2)
    def look_up_patients(self) -> None:
        params = patient_filters(self.rng)
        with self.client.get(
            "/api/v1/patients/", params=params, name="/api/v1/patients/", catch_response=True
        ) as resp:
            page_results(resp)

    @task(2)
    def submit_claim(self) -> None:
        if not (self.patients and self.payers):
            return
        payload = claim_payload(
            self.rng,
            patient=self.rng.choice(self.patients),
            payer=self.rng.choice(self.payers),
            today=self.today,
        )
        with self.client.post("/api/v1/claims/", json=payload, catch_response=True) as resp:
            if resp.status_code != 201:
                resp.failure(f"expected 201, got {resp.status_code}: {resp.text[:200]}")
                return
            claim = resp.json()
        self.in_adjudication[claim["id"]] = (claim["status"], claim["billed_amount"])

    @task(2)
    def adjudicate_claim(self) -> None:
        # Only claims this user submitted: two users moving the same claim would conflict by design.
        if not self.in_adjudication:
            return
        claim_id, (current, billed) = next(iter(self.in_adjudication.items()))
        target = next_status(self.rng, current)
        if target is None:
            del self.in_adjudication[claim_id]
            return
        with self.client.post(
            f"/api/v1/claims/{claim_id}/transition/",
            json=transition_payload(self.rng, target=target, billed_amount=billed),
            name="/api/v1/claims/[id]/transition/",
            catch_response=True,
        ) as resp:
            if resp.status_code != 200:
                resp.failure(
                    f"{current} -> {target}: expected 200, got {resp.status_code}: {resp.text[:200]}"
                )
                del self.in_adjudication[claim_id]
                return
        self.in_adjudication[claim_id] = (target, billed)


class RevenueAnalyst(TenantUser):
    """Reads the payer reports and the audit trail; never writes."""

    weight = 1
    wait_time = between(0.5, 2)

    @task(3)
    def payer_summary(self) -> None:
        params = summary_period(self.rng, today=self.today)
        with self.client.get(
            "/api/v1/payers/summary/", params=params, name="/api/v1/payers/summary/", catch_response=True
        ) as resp:
            rows = page_results(resp)
            if rows and not all(0 <= row.get("denial_rate", -1) <= 1 for row in rows):
                resp.failure("a payer summary row has no denial_rate between 0 and 1")

    @task(2)
    def active_payers(self) -> None:
        with self.client.get("/api/v1/payers/active/", catch_response=True) as resp:
            rows = page_results(resp)
            if rows and not all(row.get("is_active") for row in rows):
                resp.failure("a closed payer is listed as active")

    @task(2)
    def browse_payers(self) -> None:
        with self.client.get(
            "/api/v1/payers/", params={"page_size": 50}, name="/api/v1/payers/", catch_response=True
        ) as resp:
            page_results(resp)

    @task(2)
    def review_audit_trail(self) -> None:
        with self.client.get(
            "/api/v1/audit-events/",
            params={"page_size": 50},
            name="/api/v1/audit-events/",
            catch_response=True,
        ) as resp:
            page_results(resp)


class ReadinessProbe(HttpUser):
    """A load balancer's health check: one per run, whatever the user count."""

    fixed_count = 1
    wait_time = constant(2)

    @task
    def ready(self) -> None:
        with self.client.get("/health/ready", catch_response=True) as resp:
            if resp.status_code != 200:
                resp.failure(f"not ready: {resp.status_code} {resp.text[:200]}")


if os.environ.get(STAGES_ENV):

    class StagedLoad(LoadTestShape):
        """Follows the profile named by ROLLGUARD_STAGES instead of --users/--run-time."""

        stages = profile(os.environ[STAGES_ENV])

        def tick(self) -> tuple[int, float] | None:
            return stage_at(self.stages, self.get_run_time())
