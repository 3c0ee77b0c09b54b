"""summary.schema.json is the one contract of the load-test summary: the gate writes
only what it admits, the operator reads only what it admits, and both agree."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
from test_summary import Stats, entry

from rollguard.planner.jsonschema_subset import check_schema, errors
from rollguard.planner.summary import parse_summary, summary_schema
from rollguard_loadtest.summary import SCHEMA_PATH, fit, summarize, validate
from rollguard_loadtest.thresholds import Thresholds

REPO = Path(__file__).resolve().parents[2]
OPERATOR_COPY = REPO / "operator" / "rollguard" / "schemas" / "loadtest-summary.schema.json"


def written(**stats) -> dict:
    """A summary exactly as the gate writes it."""
    endpoints = {i: entry(f"/api/v1/claims/{i}/", p95=100 + i, failures=i % 2) for i in range(8)}
    return fit(summarize(Stats(total=entry("Aggregated", **stats), entries=endpoints), Thresholds()))


def test_the_operator_ships_the_gates_schema():
    assert OPERATOR_COPY.read_bytes() == SCHEMA_PATH.read_bytes(), "run `make sync-summary-schema`"


def test_the_schema_is_valid_draft_07_and_uses_only_what_the_operator_enforces():
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    check_schema(schema)


@pytest.mark.parametrize("stats", [{}, {"p95": 900}, {"requests": 0}, {"failures": 40}])
def test_what_the_gate_writes_the_operator_reads(stats):
    summary = written(**stats)
    validate(summary)

    read = parse_summary(json.dumps(summary))
    assert (read.verdict, read.reasons) == (summary["verdict"], summary["reasons"])
    assert read.worst == summary["worst"]
    assert read.stats["p95Ms"] == summary["p95Ms"]


# Fields a summary may lack: those added after the first release of the contract.
OPTIONAL = {"workers"}


def test_only_the_later_fields_are_optional():
    schema = json.loads(SCHEMA_PATH.read_text())
    assert set(schema["properties"]) - set(schema["required"]) == OPTIONAL


def test_a_summary_from_before_the_workers_figure_still_reads():
    summary = {k: v for k, v in written().items() if k != "workers"}
    validate(summary)
    assert "workers" not in parse_summary(json.dumps(summary)).stats


def test_the_operator_reads_the_workers_figure():
    summary = written()
    summary["workers"] = 2
    assert parse_summary(json.dumps(summary)).stats["workers"] == 2


def breakages() -> list[tuple[str, dict]]:
    good = written()
    cases = []
    for key in good:
        if key in OPTIONAL:
            continue
        cases.append((f"without {key}", {k: v for k, v in good.items() if k != key}))
    for key, bad in [
        ("verdict", "maybe"),
        ("reasons", "slow"),
        ("requests", -1),
        ("failures", 1.5),
        ("errorRatePercent", 100.5),
        ("p95Ms", "88"),
        ("rps", None),
        ("workers", -1),
        ("workers", 1.5),
        ("worst", [{"name": "GET /", "p95Ms": 1}]),
        ("worst", [{"name": "", "p95Ms": 1, "failures": 0}]),
        ("worst", [{"name": "x" * 121, "p95Ms": 1, "failures": 0}]),
        ("worst", [{"name": "GET /", "p95Ms": 1, "failures": 0}] * 6),
        ("thresholds", {"p95Ms": 0, "errorRatePercent": 5}),
        ("thresholds", {"p95Ms": 500}),
        ("unknown", 1),
    ]:
        broken = copy.deepcopy(good)
        broken[key] = bad
        cases.append((f"{key}={bad!r}"[:60], broken))
    return cases


@pytest.mark.parametrize(("case", "summary"), breakages(), ids=[case for case, _ in breakages()])
def test_a_summary_that_breaks_the_schema_is_refused_on_both_sides(case, summary):
    with pytest.raises(ValueError, match=r"summary\.schema\.json"):
        validate(summary)
    with pytest.raises(ValueError, match=r"\$"):
        parse_summary(json.dumps(summary))
    assert list(errors(summary_schema(), summary)) != []


def test_the_loadtest_status_declares_the_summarys_stats_and_worst_endpoints():
    from rollguard.builders.crds import schema_of

    status = schema_of("LoadTest")["properties"]["status"]["properties"]
    schema = summary_schema()["properties"]
    stats = {name for name, node in schema.items() if node["type"] in ("integer", "number")}

    assert set(status["stats"]["properties"]) == stats
    assert set(status["worst"]["items"]["properties"]) == set(schema["worst"]["items"]["properties"])
