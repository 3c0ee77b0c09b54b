"""The real locustfile against an API that fails or stalls on purpose: the gate must fail the run."""

import json
import os
import re

import pytest
from loadtest_fake_api import serving

from rollguard_loadtest.locustrun import locust_command, run_locust
from rollguard_loadtest.summary import TERMINATION_MESSAGE_LIMIT

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("mode", "reason", "figure", "low", "high"),
    [
        # Every third request answers 500.
        ("errors", r"error rate \d+\.\d\d% is above the 5% threshold", "errorRatePercent", 20, 45),
        # Every answer waits 700 ms.
        ("slow", r"p95 \d+ ms is above the 500 ms threshold", "p95Ms", 700, 5000),
    ],
    ids=["errors", "slow"],
)
def test_failing_or_slow_api_fails_the_gate_naming_the_threshold(tmp_path, mode, reason, figure, low, high):
    env = dict(
        os.environ,
        ROLLGUARD_API_TOKENS="north-token,south-token",
        ROLLGUARD_RESULTS_DIR=str(tmp_path),
        ROLLGUARD_TERMINATION_LOG=str(tmp_path / "termination-log"),
    )
    with serving(mode) as api:
        command = locust_command(
            host=api.url, users=4, spawn_rate=4, run_time="5s", csv_prefix=tmp_path / "locust"
        )
        result = run_locust(command, env, timeout=90)
        seen_tokens = set(api.seen_tokens)

    assert result.returncode == 1, result.stderr[-3000:]
    message = (tmp_path / "termination-log").read_bytes()
    assert len(message) <= TERMINATION_MESSAGE_LIMIT
    summary = json.loads(message)
    assert summary == json.loads((tmp_path / "summary.json").read_text())
    assert summary["verdict"] == "failed"
    assert len(summary["reasons"]) == 1
    assert re.fullmatch(reason, summary["reasons"][0]), summary["reasons"]
    assert low <= summary[figure] <= high
    assert summary["requests"] >= 8
    assert seen_tokens == {"Token north-token", "Token south-token"}
