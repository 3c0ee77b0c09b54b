"""The load-test image: a 5 s Locust run against the API container, judged by the gate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from podman_cli import FACTS, IMAGES, image_facts, run

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

TERMINATION_LOG = "/dev/termination-log"


def locust(api_url: str, termination_log: Path, *env: str) -> tuple[int, dict]:
    """The operator's verification run (docs/contracts.md): exit code and the termination message."""
    result = run(
        IMAGES["loadtest"],
        "-f", "locustfile.py", "--headless", "--users", "4", "--spawn-rate", "4", "--run-time", "5s",
        "--host", api_url, "--only-summary",
        options=(
            "--read-only", "--cap-drop", "ALL",
            "--volume", f"{termination_log}:{TERMINATION_LOG}",
            "--env", "ROLLGUARD_P95_MS=2000",
            "--env", "ROLLGUARD_ERROR_RATE_PERCENT=5",
            *env,
        ),
        timeout=120,
    )  # fmt: skip
    message = termination_log.read_text()
    assert message, f"no termination message (exit {result.returncode}):\n{result.stdout}\n{result.stderr}"
    assert len(message.encode()) <= 4096
    return result.returncode, json.loads(message)


def test_the_image_holds_locust_and_the_gate_alone():
    facts = image_facts("loadtest")
    FACTS["loadtest"] = facts
    assert facts.user == "10001:10001"
    assert "locust" in facts.distributions
    for absent in ("django", "kopf", "rollguard", "gunicorn", "psycopg"):
        assert absent not in facts.distributions
    gate = run(IMAGES["loadtest"], "-c", "import rollguard_loadtest.gate", options=("--entrypoint", "python"))
    assert gate.returncode == 0, gate.stderr


def test_a_healthy_api_passes_and_the_summary_lands_in_the_termination_log(api_server, host_file):
    code, summary = locust(
        api_server.url, host_file, "--env", f"ROLLGUARD_API_TOKENS={','.join(api_server.tokens)}"
    )

    assert code == 0, summary
    assert summary["verdict"] == "passed"
    assert summary["requests"] > 0
    assert summary["failures"] == 0
    assert summary["thresholds"] == {"p95Ms": 2000, "errorRatePercent": 5}


def test_rejected_requests_fail_the_gate_with_exit_code_1(api_server, host_file):
    code, summary = locust(api_server.url, host_file, "--env", "ROLLGUARD_API_TOKENS=not-a-token,nor-this")

    assert code == 1
    assert summary["verdict"] == "failed"
    assert summary["errorRatePercent"] > 5
    assert any("error rate" in reason for reason in summary["reasons"]), summary["reasons"]
