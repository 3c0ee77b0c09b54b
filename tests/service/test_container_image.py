"""The image recipe: clean under hadolint, non-root, serving /app and its metrics with gunicorn."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from dockerfiles import runtime_user, stages

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "service" / "Dockerfile"
HADOLINT = shutil.which("hadolint", path=str(ROOT / ".venv" / "bin")) or shutil.which("hadolint")


@pytest.mark.integration
def test_hadolint_finds_nothing():
    assert HADOLINT, "hadolint is missing: run `make setup`"
    result = subprocess.run([HADOLINT, str(DOCKERFILE)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_runtime_runs_as_an_unprivileged_numeric_user():
    uid, gid = runtime_user(stages(DOCKERFILE)[-1])

    assert uid >= 10000
    assert gid == uid


def test_the_runtime_serves_app_with_gunicorn():
    runtime = stages(DOCKERFILE)[-1]
    cmd = runtime.last("CMD")

    assert runtime.last("WORKDIR").value == ("/app",)
    assert (cmd.json, cmd.value) == (True, ("gunicorn", "-c", "gunicorn.conf.py", "config.wsgi"))
    assert runtime.last("EXPOSE").value == ("8000", "9100")


def test_the_build_context_carries_only_what_the_image_needs():
    ignore = (ROOT / "service" / "Dockerfile.dockerignore").read_text().splitlines()
    assert ignore[ignore.index("**") :][:4] == ["**", "!pyproject.toml", "!uv.lock", "!service/"]
