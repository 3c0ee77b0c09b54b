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


def test_image_runs_as_non_root_with_the_locked_locust():
    recipe = (LOADTEST / "Dockerfile").read_text()
    # The versions come from uv.lock (the `loadtest` group), never from a pin of its own.
    assert "uv export --frozen --only-group loadtest" in recipe
    assert "locust==" not in recipe
    user_line = next(line for line in recipe.splitlines() if line.startswith("USER "))
    assert user_line == "USER ${APP_UID}:${APP_UID}"
    assert int(recipe.split("ARG APP_UID=", 1)[1].split()[0]) >= 10000
    assert "PYTHONPATH=/opt/loadtest" in recipe
