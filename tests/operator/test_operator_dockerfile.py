"""The operator's image recipe: clean under hadolint, non-root, running `python -m rollguard`."""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from dockerfiles import runtime_user, stages

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "operator" / "Dockerfile"
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


def test_the_image_runs_the_operator_and_carries_the_console_script_the_wait_hook_calls():
    build, runtime = stages(DOCKERFILE)
    entrypoint, cmd = runtime.last("ENTRYPOINT"), runtime.last("CMD")

    assert (entrypoint.json, entrypoint.value) == (True, ("python", "-m", "rollguard"))
    assert (cmd.json, cmd.value) == (True, ("run",))
    assert [c.flags for c in runtime.all("COPY")] == [(f"--from={build.name}",)]
    assert ["pip", "install", "--no-deps", "dist/*.whl"] in build.shell_commands(), (
        "the wheel installs the `rollguard` console script"
    )
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["rollguard"] == "rollguard.cli:main"


def test_the_build_context_carries_only_what_the_image_needs():
    ignore = (ROOT / "operator" / "Dockerfile.dockerignore").read_text().splitlines()
    assert ignore[ignore.index("**") :][:2] == ["**", "!pyproject.toml"]
    assert "!operator/rollguard/" in ignore, "the sandbox and the emulator stay out of the context"
    assert "!operator/" not in ignore
