"""`make bench-api` end to end, on a tiny database and short runs."""

import json
import subprocess
import sys

import pytest

from rollguard_loadtest import stack
from rollguard_loadtest.bench.figures import SCENARIOS

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(not stack.service_ready(), reason="the service is not in this checkout yet"),
]


def test_benchmark_measures_every_scenario_against_the_floor(tmp_path):
    tiny = ["--sizes", "300,450", "--users", "4", "--run-time", "4s", "--results", str(tmp_path)]
    result = subprocess.run(
        [sys.executable, "-m", "rollguard_loadtest.bench", *tiny],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    report = json.loads((tmp_path / "bench-api.json").read_text())
    assert report["claims"] == 600
    rows = {row["label"]: row for row in report["endpoints"]}
    assert list(rows) == [scenario.label for scenario in SCENARIOS]
    floor, *endpoints = report["endpoints"]
    assert floor["queries_per_request"] == 0  # the liveness probe never touches the database
    assert floor["rps_vs_floor"] == 1.0
    for row in endpoints:
        assert row["requests"] > 0, row
        assert row["failures"] == 0, row
        assert row["queries_per_request"] >= 1, row
        assert row["rps_vs_floor"] == pytest.approx(row["rps"] / floor["rps"], abs=0.01)
    assert (tmp_path / "bench-api.png").read_bytes().startswith(b"\x89PNG")
    assert "SQL/req" in result.stdout
