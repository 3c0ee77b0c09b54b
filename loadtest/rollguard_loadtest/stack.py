"""The claims API as it runs in its image, started locally: migrate, seed, gunicorn on a free port.

The load-test suite and `make bench-api` both measure the real thing: the
service's own gunicorn configuration in front of a real PostgreSQL.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SERVICE_DIR = Path(__file__).resolve().parents[2] / "service"


def service_ready(service_dir: Path = SERVICE_DIR) -> bool:
    """Whether the checkout holds a servable API: manage.py, the WSGI app and the gunicorn config."""
    needed = ("manage.py", "config/wsgi.py", "gunicorn.conf.py")
    return all((service_dir / name).is_file() for name in needed)


def database_url(server_url: str, name: str) -> str:
    """`server_url` pointed at database `name`."""
    return urlsplit(server_url)._replace(path=f"/{name}").geturl()


def create_database(server_url: str, name: str) -> str:
    """A new, empty database `name` on the server of `server_url` (dropped first if left over)."""
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return database_url(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def service_env(database_url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url, DJANGO_SECRET_KEY=env.get("DJANGO_SECRET_KEY") or secrets.token_hex(32)
    )
    env.update(extra)
    return env


def manage(
    database_url: str, *args: str, service_dir: Path = SERVICE_DIR, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """Run `manage.py` with the given arguments against `database_url`; a failure raises with its output."""
    result = subprocess.run(  # noqa: S603 (our own command line)
        [sys.executable, "manage.py", *args],
        cwd=service_dir,
        env=service_env(database_url),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"manage.py {' '.join(args)} exited {result.returncode}:\n"
            f"{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
        )
    return result


def seed_demo(database_url: str, *args: str, service_dir: Path = SERVICE_DIR) -> dict[str, Any]:
    """The JSON `seed_demo` prints: `{"tenants": [{"name", "token"}, ...]}`."""
    output = manage(database_url, "seed_demo", *args, service_dir=service_dir).stdout
    last = [line for line in output.splitlines() if line.strip().startswith("{")][-1]
    seed: dict[str, Any] = json.loads(last)
    return seed


def wait_for(url: str, timeout: float = 60.0, process: subprocess.Popen[Any] | None = None) -> None:
    """Poll `url` until it answers 200; a server process that dies meanwhile fails at once."""
    deadline = time.monotonic() + timeout
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 (a local http URL)
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError) as error:
            last_error = str(error)
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer 200 within {timeout:.0f}s: {last_error}")


WARM_UP_PATHS = (
    "/api/v1/claims/?page_size=25",
    "/api/v1/patients/?page_size=25",
    "/api/v1/payers/",
    "/api/v1/payers/summary/",
    "/api/v1/payers/active/",
    "/api/v1/audit-events/",
)


def warm_up(api_url: str, tokens: list[str], rounds: int = 4) -> None:
    """Send each read path a few times per tenant, so lazy imports and cold caches stay out of the figures."""
    for _ in range(rounds):
        for token in tokens:
            for path in WARM_UP_PATHS:
                request = urllib.request.Request(  # noqa: S310 (the local API)
                    api_url + path, headers={"Authorization": f"Token {token}"}
                )
                with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310
                    resp.read()


@dataclass(frozen=True)
class ApiServer:
    url: str
    process: subprocess.Popen[bytes]
    log_file: Path


@contextlib.contextmanager
def gunicorn(
    database_url: str,
    *,
    port: int,
    log_file: Path,
    service_dir: Path = SERVICE_DIR,
    config: str = "gunicorn.conf.py",
    env: Mapping[str, str] | None = None,
) -> Iterator[ApiServer]:
    """gunicorn with the service's own config on 127.0.0.1:`port`, ready when the block starts."""
    server_env = service_env(database_url, HOST="127.0.0.1", PORT=str(port), **dict(env or {}))
    gunicorn_bin = Path(sys.executable).with_name("gunicorn")
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 (our own command line)
            [str(gunicorn_bin), "-c", config, "config.wsgi"],
            cwd=service_dir,
            env=server_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_for(f"{url}/health/ready", process=process)
            yield ApiServer(url=url, process=process, log_file=log_file)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
