import json

from rollguard_loadtest.report import main, render_rows, render_summary

SUMMARY = {
    "verdict": "failed",
    "reasons": ["p95 612 ms is above the 500 ms threshold"],
    "requests": 1520,
    "failures": 3,
    "errorRatePercent": 0.2,
    "p50Ms": 21,
    "p95Ms": 612,
    "p99Ms": 900,
    "rps": 50.1,
    "worst": [{"name": "GET /api/v1/payers/summary/", "p95Ms": 880, "failures": 0}],
    "thresholds": {"p95Ms": 500, "errorRatePercent": 5},
}


def test_numbers_align_right_and_text_left():
    table = render_rows(["name", "n"], [["a", 5], ["long name", 120]])
    assert table.splitlines() == ["name         n", "---------  ---", "a            5", "long name  120"]


def test_summary_table_shows_the_verdict_reasons_totals_and_worst_endpoints():
    text = render_summary(SUMMARY)
    assert text.startswith("verdict: FAILED  (thresholds: p95 500 ms, errors 5%)")
    assert "  - p95 612 ms is above the 500 ms threshold" in text
    totals = text.split("\n\n")[1].splitlines()[-1].split()
    assert totals == ["1520", "3", "0.20", "21", "612", "900", "50.10"]
    assert text.splitlines()[-1].split() == ["GET", "/api/v1/payers/summary/", "880", "0"]


def test_the_report_command_exits_with_the_verdict(tmp_path, capsys):
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(SUMMARY))
    assert main([str(path)]) == 1
    path.write_text(json.dumps({**SUMMARY, "verdict": "passed", "reasons": []}))
    assert main([str(path)]) == 0
    assert "verdict: PASSED" in capsys.readouterr().out
