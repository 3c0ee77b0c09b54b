"""The image recipe: clean under hadolint, non-root, serving /app with gunicorn."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "service" / "Dockerfile"
HADOLINT = shutil.which("hadolint", path=str(ROOT / ".venv" / "bin")) or shutil.which("hadolint")


@pytest.mark.integration
def test_hadolint_finds_nothing():
    assert HADOLINT, "hadolint is missing: run `make setup`"
    result = subprocess.run([HADOLINT, str(DOCKERFILE)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def _final_stage() -> str:
    return DOCKERFILE.read_text().split("\nFROM ")[-1]


def test_the_runtime_runs_as_an_unprivileged_numeric_user():
    stage = _final_stage()
    uid = int(re.search(r"ARG APP_UID=(\d+)", stage).group(1))
    assert uid >= 10000
    assert re.search(r"^USER \$\{APP_UID\}:\$\{APP_UID\}$", stage, re.M)


def test_the_runtime_serves_app_with_gunicorn():
    stage = _final_stage()
    assert "WORKDIR /app" in stage
    assert 'CMD ["gunicorn", "-c", "gunicorn.conf.py", "config.wsgi"]' in stage
    assert "EXPOSE 8000" in stage


def test_the_build_context_carries_only_what_the_image_needs():
    ignore = (ROOT / "service" / "Dockerfile.dockerignore").read_text().splitlines()
    assert ignore[ignore.index("**") :][:4] == ["**", "!pyproject.toml", "!uv.lock", "!service/"]
