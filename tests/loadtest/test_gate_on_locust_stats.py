import subprocess
import sys
from pathlib import Path

import pytest

CASES = Path(__file__).with_name("stats_cases.py")


@pytest.mark.slow
def test_gate_arithmetic_holds_on_locusts_own_stats_objects():
    # stats_cases.py imports Locust, whose gevent patching must stay out of this process.
    command = [sys.executable, "-m", "pytest", str(CASES), "-q", "--no-cov"]
    result = subprocess.run(
        [*command, "-p", "no:cacheprovider", "-p", "no:django"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "4 passed" in result.stdout
