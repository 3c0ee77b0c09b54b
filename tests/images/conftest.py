"""The image tests: real containers of the three images, run by podman on the host network.

Only `make test-images` collects this folder (tests/conftest.py leaves it out of
every other run); it needs podman and the images `make images` builds.
"""

from __future__ import annotations

import json
import shutil
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from podman_cli import FACTS, IMAGES, LOCKED_DOWN, RESULTS, ROOT, api_env, new_database, podman, wait_http

import localdb

# The operator suite's emulator fixtures and fake cluster drive the operator image.
sys.path.insert(0, str(ROOT / "tests" / "operator"))


def pytest_sessionstart(session: pytest.Session) -> None:
    if shutil.which("podman") is None:
        raise pytest.UsageError("the image tests need podman: run `make images` first (it installs it)")
    missing = [ref for ref in IMAGES.values() if podman("image", "exists", ref, check=False).returncode != 0]
    if missing:
        raise pytest.UsageError(f"images not built: {', '.join(missing)}; run `make images`")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FACTS:
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "images.json").write_text(
        json.dumps({name: facts.as_dict() for name, facts in FACTS.items()}, indent=2) + "\n"
    )
    write = terminalreporter.write_line
    write("")
    write(f"{'image':<40} {'id':<14} {'size':>10} {'user':<12} {'python packages':>15}")
    for facts in FACTS.values():
        write(
            f"{facts.reference:<40} {facts.image_id[:12]:<14} {facts.size_mb:>7} MB "
            f"{facts.user:<12} {len(facts.distributions):>15}"
        )
    write(f"(also in {RESULTS.relative_to(ROOT)}/images.json)")


@dataclass
class ApiServer:
    url: str
    container: str
    database_url: str
    tokens: list[str]


@pytest.fixture(scope="session")
def api_server(postgres_url: str) -> Iterator[ApiServer]:
    """gunicorn in the API image, its schema migrated and seeded by the same image."""
    database_url = new_database(postgres_url)
    port = localdb.free_port()
    env = api_env(database_url, port)
    manage = ("--rm", "--network", "host", *LOCKED_DOWN, *env, IMAGES["api"], "python", "manage.py")
    for phase in ("expand", "contract"):
        migrated = podman("run", *manage, "migrate_phase", phase, timeout=300, check=False)
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    seeded = podman("run", *manage, "seed_demo", timeout=300)
    tokens = [tenant["token"] for tenant in json.loads(seeded.stdout.strip().splitlines()[-1])["tenants"]]
    name = f"rollguard-api-{uuid.uuid4().hex[:8]}"
    podman("run", "--detach", "--rm", "--name", name, "--network", "host", *LOCKED_DOWN, *env, IMAGES["api"])
    try:
        url = f"http://127.0.0.1:{port}"
        wait_http(f"{url}/health/ready", seconds=60)
        yield ApiServer(url=url, container=name, database_url=database_url, tokens=tokens)
    finally:
        logs = podman("logs", name, check=False)
        (RESULTS / "api-server.log").parent.mkdir(parents=True, exist_ok=True)
        (RESULTS / "api-server.log").write_text(logs.stdout + logs.stderr)
        podman("rm", "--force", "--time", "5", name, check=False)


@pytest.fixture
def host_file(tmp_path: Path) -> Path:
    """An empty file that a container's unprivileged user may write (a termination log)."""
    path = tmp_path / "termination-log"
    path.write_text("")
    path.chmod(0o666)
    return path
