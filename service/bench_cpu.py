"""`make bench-cpu`: Python CPU milliseconds per request of the benchmarked endpoints.

Latency on a shared machine says more about the neighbours than about the
code; the CPU a request costs the serving process does not. This seeds the
demo tenants (`--claims` per tenant) into a throw-away PostgreSQL (or
$DATABASE_URL with $MIGRATION_DATABASE_URL), serves them as the application
role behind row-level security, and sends each endpoint of `make bench-api`
`--repeat` times straight through the WSGI application, as gunicorn would,
timing `time.process_time()` (this process only: PostgreSQL's work is not in
it). `--profile DIR` writes a cProfile of each endpoint there.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SERVICE = Path(__file__).resolve().parent
RESULTS = SERVICE.parent / "results" / "bench-cpu"
DATABASE = "rollguard_bench_cpu"


@dataclass(frozen=True)
class Call:
    """One request of a benchmarked endpoint, and the status it must answer."""

    method: str
    path: str
    query: str = ""
    body: bytes = b""
    status: int = 200


@contextmanager
def _database() -> Iterator[tuple[str, str]]:
    """(application URL, owner URL) of a database to seed and serve."""
    if url := os.environ.get("DATABASE_URL"):
        yield url, os.environ.get("MIGRATION_DATABASE_URL", url)
        return
    import localdb

    with tempfile.TemporaryDirectory(prefix="rollguard-bench-cpu-") as tmp:
        os.chmod(tmp, 0o755)  # noqa: S103 - the unprivileged server user must reach its data folder
        with localdb.running(Path(tmp) / "data") as server:
            roles = localdb.provision_roles(server.url(), DATABASE)
            yield roles.application_url, roles.migration_url


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args], cwd=SERVICE, env=env, check=True, capture_output=True, text=True
    )
    return result.stdout


def _seed(env: dict[str, str], claims: int) -> str:
    """Migrate and seed the demo tenants; the first tenant's fresh token."""
    _manage(env, "migrate", "--noinput")
    seed = _manage(env, "seed_demo", "--claims", str(claims))
    tenants = json.loads([line for line in seed.splitlines() if line.startswith("{")][-1])["tenants"]
    return str(tenants[0]["token"])


def _environ(call: Call, token: str) -> dict[str, Any]:
    """The WSGI environ gunicorn builds for `call` (a client on 127.0.0.1, keep-alive)."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": call.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": call.path,
        "QUERY_STRING": call.query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_ACCEPT": "*/*",
        "HTTP_CONNECTION": "keep-alive",
        "HTTP_USER_AGENT": "bench-cpu",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(call.body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if token:
        environ["HTTP_AUTHORIZATION"] = f"Token {token}"
    if call.body:
        environ["CONTENT_TYPE"] = "application/json"
        environ["CONTENT_LENGTH"] = str(len(call.body))
    return environ


def _requester(calls: Callable[[], Call], token: str) -> Callable[[], None]:
    from config.wsgi import application

    def request() -> None:
        call = calls()
        seen: list[str] = []
        body = application(_environ(call, token), lambda status, headers, exc=None: seen.append(status))
        content = b"".join(body)
        body.close()  # type: ignore[attr-defined]
        code = int(seen[0].split()[0])
        assert code == call.status, (call, seen[0], content[:300])

    return request


def _scenarios() -> dict[str, Callable[[], Call]]:
    """The endpoints of `make bench-api`, each a function giving its next request."""
    import datetime as dt
    import random

    from billing.models import Customer, Patient, Payer
    from billing.tenancy import tenant_scope

    customer = Customer.objects.order_by("id").first()
    assert customer is not None, "bench-cpu needs the demo tenants: seed_demo did not run"
    rng = random.Random(14)  # noqa: S311 - request data, not secrets
    today = dt.date.today()
    payers = list(Payer.objects.filter(is_active=True).values_list("id", flat=True))
    with tenant_scope(customer.pk):
        patients = list(Patient.objects.filter(customer=customer).values_list("id", flat=True)[:100])

    def health() -> Call:
        return Call("GET", "/health/live")

    def claim_list() -> Call:
        status = rng.choice(("submitted", "accepted", "paid", "denied"))
        after = (today - dt.timedelta(days=90)).isoformat()
        query = (
            f"status={status}&service_date_after={after}&service_date_before={today.isoformat()}"
            f"&page_size=25&payer={rng.choice(payers)}"
        )
        return Call("GET", "/api/v2/claims/", query)

    def payer_summary() -> Call:
        return Call("GET", "/api/v1/payers/summary/")

    def claim_create() -> Call:
        body = {
            "patient": rng.choice(patients),
            "payer": rng.choice(payers),
            "billed_amount": f"{rng.randint(100, 99999) / 100:.2f}",
            "service_date": (today - dt.timedelta(days=rng.randint(0, 365))).isoformat(),
        }
        return Call("POST", "/api/v1/claims/", body=json.dumps(body).encode(), status=201)

    return {
        "GET /health/live (floor)": health,
        "GET /api/v2/claims/?[filters]": claim_list,
        "GET /api/v1/payers/summary/": payer_summary,
        "POST /api/v1/claims/": claim_create,
    }


def measure(token: str, repeat: int, profile_dir: Path | None) -> dict[str, dict[str, float]]:
    """CPU and wall milliseconds per request of each scenario, after a warm-up."""
    figures = {}
    for name, calls in _scenarios().items():
        request = _requester(calls, "" if name.startswith("GET /health") else token)
        for _ in range(max(10, repeat // 10)):
            request()
        profiler = cProfile.Profile(time.process_time) if profile_dir else None
        cpu, wall = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        for _ in range(repeat):
            request()
        if profiler:
            profiler.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        figures[name] = {
            "cpu_ms_per_request": round(cpu * 1000 / repeat, 3),
            "wall_ms_per_request": round(wall * 1000 / repeat, 3),
        }
        if profiler and profile_dir:
            profile_dir.mkdir(parents=True, exist_ok=True)
            slug = "".join(c if c.isalnum() else "-" for c in name).strip("-").lower()
            profiler.dump_stats(profile_dir / f"{slug}.prof")
    floor = figures["GET /health/live (floor)"]["cpu_ms_per_request"]
    for row in figures.values():
        row["cpu_x_floor"] = round(row["cpu_ms_per_request"] / floor, 2) if floor else 0.0
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=100_000, help="claims per demo tenant (default 100000)")
    parser.add_argument("--repeat", type=int, default=500, help="timed requests per endpoint (default 500)")
    parser.add_argument("--profile", type=Path, default=None, help="write a cProfile per endpoint here")
    parser.add_argument(
        "--token",
        default="",
        help="a token of the first demo tenant: skip migrate and seed_demo (a seeded $DATABASE_URL)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "bench-cpu.json", help="the JSON report")
    args = parser.parse_args()

    with _database() as (app_url, owner_url):
        env = {
            **os.environ,
            "DATABASE_URL": app_url,
            "MIGRATION_DATABASE_URL": owner_url,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
        }
        started = time.perf_counter()
        token = args.token or _seed(env, args.claims)
        seed_s = time.perf_counter() - started
        os.environ.update(env)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        sys.path.insert(0, str(SERVICE))
        import django

        django.setup()
        endpoints = measure(token, args.repeat, args.profile)
        from django.db import connections

        connections.close_all()

    report = {
        "claims_per_tenant": args.claims,
        "repeat": args.repeat,
        "seed_s": round(seed_s, 1),
        "python": sys.version.split()[0],
        "endpoints": endpoints,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
