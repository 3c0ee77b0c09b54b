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
    assert report["sizes"] == [300, 450]
    assert report["claims"]["300"] >= 600
    for size in report["sizes"]:
        rows = [row for row in report["endpoints"] if row["size"] == size]
        assert [row["label"] for row in rows] == [scenario.label for scenario in SCENARIOS]
        floor, *endpoints = rows
        assert floor["queries"] == 0  # the liveness probe never touches the database
        assert floor["rps_x_floor"] == 1.0
        for row in endpoints:
            assert row["failures"] == 0, row
            assert row["naive_queries"] > 0, row
            assert row["rps_x_floor"] == pytest.approx(row["rps"] / floor["rps"], abs=0.01)
    assert set(report["cost_ratio_1m_over_100k"]) == {scenario.label for scenario in SCENARIOS}
    assert (tmp_path / "bench-api.png").read_bytes().startswith(b"\x89PNG")
    assert "naive SQL" in result.stdout
