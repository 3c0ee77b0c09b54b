"""`make bench-service`: how fast demo data loads and how fast the API answers at scale.

Seeds N claims per tenant (default 100,000) into a throw-away PostgreSQL (or
$DATABASE_URL), then times each list and detail endpoint in-process with
Django's test client, so the figures are the application's and the database's,
not the network's. Prints one JSON object and writes it to results/.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

SERVICE = Path(__file__).resolve().parent
RESULTS = SERVICE.parent / "results"


@contextmanager
def _database() -> Iterator[str]:
    if url := os.environ.get("DATABASE_URL"):
        yield url
        return
    import localdb

    with tempfile.TemporaryDirectory(prefix="rollguard-bench-") as tmp:
        os.chmod(tmp, 0o755)  # noqa: S103 - the unprivileged server user must reach its data folder
        with localdb.running(Path(tmp) / "data") as server:
            yield server.create_database("rollguard_bench")


def _manage(env: dict[str, str], *args: str) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args], cwd=SERVICE, env=env, check=True, capture_output=True, text=True
    )
    return time.perf_counter() - started, result.stdout


def _time(call: Callable[[], object], repeat: int) -> dict[str, float]:
    call()  # warm caches and connections
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 2),
        "max_ms": round(samples[-1], 2),
    }


def measure_endpoints(token: str, repeat: int) -> dict[str, dict[str, float]]:
    """Latency of each endpoint through Django's test client, on the configured database."""
    from django.test import Client

    from billing.models import Claim, Patient

    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    claim = Claim.objects.filter(customer__name="Acme Health").order_by("number").first()
    patient = Patient.objects.filter(customer__name="Acme Health").order_by("id").first()
    assert claim is not None, "measure_endpoints() needs seeded claims: run seed_demo first"
    assert patient is not None, "measure_endpoints() needs seeded patients: run seed_demo first"

    def get(url: str) -> Callable[[], object]:
        def call() -> object:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code, response.content[:200])
            return response

        return call

    def submit() -> object:
        body = {
            "patient": patient.pk,
            "payer": claim.payer_id,
            "billed_amount": "10.00",
            "service_date": "2026-01-01",
        }
        response = client.post("/api/v1/claims/", body, content_type="application/json")
        assert response.status_code == 201, response.content[:200]
        return response

    cases = {
        "GET /api/v1/claims/?page_size=100": get("/api/v1/claims/?page_size=100"),
        "GET /api/v1/claims/?status=denied": get("/api/v1/claims/?status=denied&page_size=100"),
        "GET /api/v1/claims/?payer&service_date range": get(
            f"/api/v1/claims/?payer={claim.payer_id}&service_date_after=2026-01-01&service_date_before=2026-03-31"
        ),
        "GET /api/v1/claims/?search=<last name>": get("/api/v1/claims/?search=Baker"),
        "GET /api/v1/claims/?ordering=-billed_amount": get("/api/v1/claims/?ordering=-billed_amount"),
        "GET /api/v1/claims/{id}/": get(f"/api/v1/claims/{claim.pk}/"),
        "GET /api/v1/patients/": get("/api/v1/patients/?page_size=100"),
        "GET /api/v1/payers/summary/": get("/api/v1/payers/summary/"),
        "GET /api/v1/payers/active/": get("/api/v1/payers/active/"),
        "POST /api/v1/claims/": submit,
        "GET /health/ready": get("/health/ready"),
    }
    return {name: _time(call, repeat) for name, call in cases.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=100_000, help="claims per tenant")
    parser.add_argument("--repeat", type=int, default=30, help="timed requests per endpoint")
    args = parser.parse_args()

    with _database() as url:
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "DJANGO_ALLOWED_HOSTS": "testserver,localhost",
            "LOG_LEVEL": "ERROR",
        }
        os.environ.update(env)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        migrate_s, _ = _manage(env, "migrate", "--noinput")
        seed_s, out = _manage(env, "seed_demo", "--claims", str(args.claims), "--patients", "2000")
        reseed_s, _ = _manage(env, "seed_demo", "--claims", str(args.claims), "--patients", "2000")
        token = json.loads(out)["tenants"][0]["token"]
        sys.path.insert(0, str(SERVICE))
        import django

        django.setup()
        endpoints = measure_endpoints(token, args.repeat)
        from django.db import connections

        connections.close_all()

    report = {
        "claims_per_tenant": args.claims,
        "tenants": 2,
        "migrate_s": round(migrate_s, 2),
        "seed_s": round(seed_s, 2),
        "seed_claims_per_s": round(2 * args.claims / seed_s),
        "reseed_idempotent_s": round(reseed_s, 2),
        "endpoints": endpoints,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench-service.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
