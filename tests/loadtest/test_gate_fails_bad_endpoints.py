"""The real locustfile against an API that fails or stalls on purpose: the gate must fail the run."""

import json
import os

import pytest
from loadtest_fake_api import serving

from rollguard_loadtest.locustrun import locust_command, run_locust
from rollguard_loadtest.summary import TERMINATION_MESSAGE_LIMIT

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("mode", "reason"),
    [("errors", "error rate 3"), ("slow", "p95 7")],
)
def test_failing_or_slow_api_fails_the_gate_with_the_threshold_named(tmp_path, mode, reason):
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
    assert summary["reasons"][0].startswith(reason), summary["reasons"]
    assert summary["requests"] > 10
    assert seen_tokens == {"Token north-token", "Token south-token"}
