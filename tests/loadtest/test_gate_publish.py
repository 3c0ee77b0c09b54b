import io
import json
import subprocess
import sys

from rollguard_loadtest.gate import publish, termination_log
from rollguard_loadtest.summary import TERMINATION_MESSAGE_LIMIT

SUMMARY = {
    "verdict": "failed",
    # Long reasons leave no room for all the endpoints: publish trims `worst` to fit 4 KiB.
    "reasons": ["p" * 3600],
    "requests": 10,
    "failures": 0,
    "errorRatePercent": 0.0,
    "p50Ms": 10,
    "p95Ms": 20,
    "p99Ms": 30,
    "rps": 1.0,
    "worst": [{"name": f"GET /api/v1/{'p' * 100}/{i}/", "p95Ms": i, "failures": 0} for i in range(5)],
    "thresholds": {"p95Ms": 500, "errorRatePercent": 5},
}


def test_summary_goes_to_stdout_results_and_termination_message_within_4_kib(tmp_path):
    message = tmp_path / "termination-log"
    environ = {"ROLLGUARD_RESULTS_DIR": str(tmp_path / "results"), "ROLLGUARD_TERMINATION_LOG": str(message)}
    out = io.StringIO()
    publish(SUMMARY, environ=environ, stdout=out)

    printed = json.loads(out.getvalue())
    saved = json.loads((tmp_path / "results" / "summary.json").read_text())
    assert printed == saved == json.loads(message.read_text())
    assert len(message.read_bytes()) <= TERMINATION_MESSAGE_LIMIT
    assert 0 < len(saved["worst"]) < 5


def test_an_unwritable_termination_message_does_not_hide_the_verdict(tmp_path):
    environ = {"ROLLGUARD_TERMINATION_LOG": str(tmp_path / "missing-dir" / "termination-log")}
    out = io.StringIO()
    publish(SUMMARY, environ=environ, stdout=out)
    assert json.loads(out.getvalue())["verdict"] == "failed"


def test_termination_message_path_prefers_the_environment(tmp_path):
    assert termination_log({"ROLLGUARD_TERMINATION_LOG": str(tmp_path / "t")}) == tmp_path / "t"


def test_the_toolkit_imports_without_locust_so_gevent_never_patches_its_users():
    code = (
        "import sys, rollguard_loadtest.gate, rollguard_loadtest.summary, rollguard_loadtest.stack, "
        "rollguard_loadtest.locustrun, rollguard_loadtest.bench.figures; "
        "print(sorted(m for m in ('locust', 'gevent') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
