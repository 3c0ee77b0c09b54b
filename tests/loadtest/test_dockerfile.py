"""The load-test image recipe: clean under hadolint, non-root, with the Locust of uv.lock."""

import subprocess
import sys
from pathlib import Path

import pytest
from dockerfiles import runtime_user, stages

LOADTEST = Path(__file__).resolve().parents[2] / "loadtest"
HADOLINT = Path(sys.executable).with_name("hadolint")


@pytest.mark.integration
def test_image_recipe_is_clean_under_hadolint():
    assert HADOLINT.exists(), "hadolint is missing: run `make setup`"
    result = subprocess.run(
        [str(HADOLINT), "--failure-threshold", "info", str(LOADTEST / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_runs_as_non_root_with_the_locked_locust():
    build, runtime = stages(LOADTEST / "Dockerfile")
    commands = build.shell_commands()
    (export,) = [c for c in commands if c[:2] == ["/opt/build-tools/bin/uv", "export"]]
    installs = [c for c in commands if c[:2] == ["pip", "install"]]

    # The versions come from uv.lock (the `loadtest` group), never from a pin of its own.
    assert {"--frozen", "--only-group"} <= set(export)
    assert export[export.index("--only-group") + 1] == "loadtest"
    assert all(not arg.startswith("locust") for install in installs for arg in install)
    uid, gid = runtime_user(runtime)
    assert uid >= 10000
    assert gid == uid
    assert runtime.env()["PYTHONPATH"] == "/opt/loadtest"
