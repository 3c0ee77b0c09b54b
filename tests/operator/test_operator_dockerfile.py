"""The operator's image recipe: clean under hadolint, non-root, running `python -m rollguard`."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "operator" / "Dockerfile"
HADOLINT = shutil.which("hadolint", path=str(ROOT / ".venv" / "bin")) or shutil.which("hadolint")


def _final_stage() -> str:
    return DOCKERFILE.read_text().split("\nFROM ")[-1]


@pytest.mark.integration
def test_hadolint_finds_nothing():
    assert HADOLINT, "hadolint is missing: run `make setup`"
    result = subprocess.run([HADOLINT, str(DOCKERFILE)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_runtime_runs_as_an_unprivileged_numeric_user():
    stage = _final_stage()
    assert int(re.search(r"ARG APP_UID=(\d+)", stage).group(1)) >= 10000
    assert re.search(r"^USER \$\{APP_UID\}:\$\{APP_UID\}$", stage, re.M)


def test_the_image_runs_the_operator_and_carries_the_console_script_the_wait_hook_calls():
    stage = _final_stage()
    assert 'ENTRYPOINT ["python", "-m", "rollguard"]' in stage
    wait_job = (ROOT / "charts" / "claims-api" / "templates" / "wait-job.yaml").read_text()
    assert re.search(r"command:\s*\n\s*- rollguard\s*\n\s*- wait", wait_job)
    assert "dist/*.whl" in DOCKERFILE.read_text(), "the wheel installs the `rollguard` console script"
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'rollguard = "rollguard.cli:main"' in pyproject


def test_the_build_context_carries_only_what_the_image_needs():
    ignore = (ROOT / "operator" / "Dockerfile.dockerignore").read_text().splitlines()
    assert ignore[ignore.index("**") :][:2] == ["**", "!pyproject.toml"]
    assert "!operator/rollguard/" in ignore, "the sandbox and the emulator stay out of the context"
    assert "!operator/" not in ignore
