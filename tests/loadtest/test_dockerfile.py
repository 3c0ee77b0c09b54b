import subprocess
import sys
from pathlib import Path

import pytest

LOADTEST = Path(__file__).resolve().parents[2] / "loadtest"
HADOLINT = Path(sys.executable).with_name("hadolint")


@pytest.mark.integration
def test_image_recipe_is_clean_under_hadolint():
    result = subprocess.run(
        [str(HADOLINT), "--failure-threshold", "info", str(LOADTEST / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_runs_as_non_root_with_the_pinned_locust():
    recipe = (LOADTEST / "Dockerfile").read_text()
    lock = (LOADTEST.parent / "uv.lock").read_text()
    locked = lock.split('name = "locust"\nversion = "', 1)[1].split('"', 1)[0]
    assert f"locust=={locked}" in recipe
    user_line = next(line for line in recipe.splitlines() if line.startswith("USER "))
    uid = int(user_line.split()[1].split(":")[0])
    assert uid >= 10000
    assert "PYTHONPATH=/opt/loadtest" in recipe
