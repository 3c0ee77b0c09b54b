"""podman for the image tests: the project's containers.conf, the images under test, their facts."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg

import localdb

ROOT = Path(__file__).resolve().parents[2]
CONTAINERS_CONF = ROOT / "mk" / "containers.conf"
RESULTS = ROOT / "results" / "images"

# `make test-images` passes the tags it built; these are its defaults.
IMAGES = {
    "api": os.environ.get("ROLLGUARD_API_IMAGE", "localhost/rollguard/claims-api:dev"),
    "operator": os.environ.get("ROLLGUARD_OPERATOR_IMAGE", "localhost/rollguard/operator:dev"),
    "loadtest": os.environ.get("ROLLGUARD_LOADTEST_IMAGE", "localhost/rollguard/loadtest:dev"),
}

_COUNT_DISTRIBUTIONS = (
    "import importlib.metadata as m, json; "
    "print(json.dumps(sorted({d.metadata['Name'].lower().replace('_', '-') for d in m.distributions()})))"
)


def podman(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CONTAINERS_CONF": os.environ.get("CONTAINERS_CONF", str(CONTAINERS_CONF))}
    result = subprocess.run(
        ["podman", *args], capture_output=True, text=True, timeout=timeout, env=env, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
    return result


def run(
    image: str, *args: str, options: tuple[str, ...] = (), timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`podman run --rm` on the host network; the exit code is the container's."""
    return podman("run", "--rm", "--network", "host", *options, image, *args, timeout=timeout, check=False)


@dataclass(frozen=True)
class ImageFacts:
    name: str
    reference: str
    image_id: str
    size_bytes: int
    user: str
    distributions: tuple[str, ...]

    @property
    def size_mb(self) -> float:
        return round(self.size_bytes / 1_000_000, 1)

    def as_dict(self) -> dict[str, object]:
        return {
            "image": self.reference,
            "id": self.image_id,
            "sizeMB": self.size_mb,
            "user": self.user,
            "pythonPackages": len(self.distributions),
            "packages": list(self.distributions),
        }


def image_facts(name: str) -> ImageFacts:
    reference = IMAGES[name]
    inspected = json.loads(podman("image", "inspect", reference).stdout)[0]
    listed = run(reference, "-c", _COUNT_DISTRIBUTIONS, options=("--entrypoint", "python"))
    assert listed.returncode == 0, listed.stderr
    return ImageFacts(
        name=name,
        reference=reference,
        image_id=inspected["Id"],
        size_bytes=int(inspected["Size"]),
        user=inspected["Config"].get("User", ""),
        distributions=tuple(json.loads(listed.stdout)),
    )


def wait_http(
    url: str, *, status: int = 200, seconds: float = 60, headers: dict[str, str] | None = None
) -> bytes:
    """Poll `url` until it answers `status`; return the body."""
    deadline = time.monotonic() + seconds
    last: object = None
    while time.monotonic() < deadline:
        request = urllib.request.Request(url, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                if response.status == status:
                    return bytes(response.read())
                last = response.status
        except urllib.error.HTTPError as error:
            last = f"{error.code} {error.read()[:200]!r}"
            if error.code == status:
                return b""
        except OSError as error:
            last = error
        time.sleep(0.25)
    raise AssertionError(f"{url} did not answer {status} in {seconds}s; last: {last}")


# What each image test found, for the table at the end of the run.
FACTS: dict[str, ImageFacts] = {}


def new_database(server_url: str) -> str:
    """A fresh, empty database on the session's server; its URL."""
    name = f"images_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return localdb.database_url(server_url, name)


def api_env(database_url: str, port: int) -> tuple[str, ...]:
    """The API container's environment, as the chart sets it (production, TLS ends before the pod)."""
    env = {
        "DATABASE_URL": database_url,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(32),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "HOST": "127.0.0.1",
        "PORT": str(port),
    }
    return tuple(part for name, value in env.items() for part in ("--env", f"{name}={value}"))


# What the chart's pod securityContext asks of the API container.
LOCKED_DOWN = ("--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges")


async def apodman(*args: str, seconds: float = 120) -> tuple[int, str]:
    """podman from a test whose event loop serves the emulator: (exit code, stdout and stderr)."""
    env = {**os.environ, "CONTAINERS_CONF": os.environ.get("CONTAINERS_CONF", str(CONTAINERS_CONF))}
    process = await asyncio.create_subprocess_exec(
        "podman", *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(process.communicate(), seconds)
    assert process.returncode is not None
    return process.returncode, output.decode()
