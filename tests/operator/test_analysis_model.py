"""Analysis verdicts, pure: Argo Rollouts' AnalysisRun semantics over a list of measurements."""

from __future__ import annotations

import datetime

import pytest

from rollguard.analysis import decode
from rollguard.analysis.errors import NoData, ProviderError
from rollguard.analysis.jsonpath import select
from rollguard.analysis.model import (
    METRIC_DEFAULTS,
    Measurement,
    Verdict,
    assess,
    judge,
    judge_all,
    parse_duration,
    render,
)
from rollguard.builders.crds import schema_of

T0 = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.UTC)
PHASES = {"S": "Successful", "F": "Failed", "I": "Inconclusive", "E": "Error"}


def measurements(letters: str, every: float = 10.0) -> list[Measurement]:
    """One measurement per letter (S, F, I, E), `every` seconds apart from T0, each taking 1 s."""
    taken = []
    for index, letter in enumerate(letters):
        started = T0 + datetime.timedelta(seconds=index * every)
        finished = started + datetime.timedelta(seconds=1)
        taken.append(
            Measurement(
                phase=PHASES[letter],  # type: ignore[arg-type]
                value="0.1",
                message="" if letter == "S" else f"{PHASES[letter].lower()} #{index}",
                started_at=started.strftime("%Y-%m-%dT%H:%M:%SZ"),
                finished_at=finished.strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
        )
    return taken


def after_last(letters: str, seconds: float, every: float = 10.0) -> datetime.datetime:
    """`seconds` after the last measurement of `letters` finished."""
    return T0 + datetime.timedelta(seconds=(len(letters) - 1) * every + 1 + seconds)


def metric(**fields: object) -> dict[str, object]:
    return {"name": "error-rate", "successCondition": "result <= 0.05", **fields}


@pytest.mark.parametrize(
    ("fields", "letters", "phase"),
    [
        ({}, "", "Running"),
        ({}, "S", "Successful"),
        ({}, "F", "Failed"),
        ({}, "I", "Inconclusive"),
        ({"count": 3}, "SS", "Running"),
        ({"count": 3}, "SSS", "Successful"),
        ({"count": 3}, "SFS", "Failed"),
        ({"count": 3, "failureLimit": 1}, "SFS", "Successful"),
        ({"count": 3, "failureLimit": 1}, "SFF", "Failed"),
        # Failed wins over Inconclusive, which wins over Error
        ({"count": 3}, "IF", "Failed"),
        ({"count": 3, "consecutiveErrorLimit": 0}, "IE", "Inconclusive"),
        ({"count": 3, "inconclusiveLimit": 1}, "ISS", "Successful"),
        ({"count": 3, "inconclusiveLimit": 1}, "IIS", "Inconclusive"),
        # errors are retried, never counted towards `count`, never a pass
        ({}, "E", "Running"),
        ({}, "EEEE", "Running"),
        ({}, "EEEEE", "Error"),
        ({}, "EEEES", "Successful"),
        ({"consecutiveErrorLimit": 0}, "E", "Error"),
        ({"consecutiveErrorLimit": 2}, "EEE", "Error"),
        ({"count": 2, "consecutiveErrorLimit": 2}, "EESEES", "Successful"),
        ({"count": 3, "consecutiveErrorLimit": 2}, "EESEE", "Running"),
        ({"count": 3, "consecutiveErrorLimit": 2}, "EESEEE", "Error"),
        # the count is reached with failures inside the limit: Successful, as Argo
        ({"count": 2, "failureLimit": 5}, "FF", "Successful"),
        # a count below 1 still takes one measurement
        ({"count": 0}, "", "Running"),
    ],
)
def test_the_verdict_follows_argo_analysis_semantics(fields: dict, letters: str, phase: str) -> None:
    verdict = judge(metric(**fields), measurements(letters), after_last(letters, 0.5))
    assert verdict.phase == phase, verdict.message


def test_running_waits_one_interval_after_the_last_measurement() -> None:
    spec = metric(count=3, interval="10s")
    assert judge(spec, [], T0) == Verdict("Running", "error-rate: 0 of 3 measurement(s) taken", 0.0)
    assert judge(spec, measurements("S"), after_last("S", 4)).next_measurement_in == pytest.approx(6)
    assert judge(spec, measurements("SS"), after_last("SS", 30)).next_measurement_in == 0.0
    assert judge(spec, measurements("S"), after_last("S", -60)).next_measurement_in == 10.0


def test_an_error_is_retried_after_the_interval_and_reported() -> None:
    verdict = judge(metric(interval="30s"), measurements("EE"), after_last("EE", 10))
    assert verdict.phase == "Running"
    assert verdict.next_measurement_in == pytest.approx(20)
    assert verdict.message == "error-rate: 0 of 1 measurement(s) taken, 2 error(s) in a row; last: error #1"


def test_a_finished_verdict_names_the_metric_and_the_last_cause() -> None:
    failed = judge(metric(count=3), measurements("SF"), T0)
    assert failed == Verdict(
        "Failed", "error-rate: 1 failed measurement(s), more than failureLimit 0; last: failed #1"
    )
    errored = judge(metric(consecutiveErrorLimit=1), measurements("EE"), T0)
    assert (
        errored.message == "error-rate: 2 errors in a row, more than consecutiveErrorLimit 1; last: error #1"
    )
    assert (
        judge(metric(count=2), measurements("SS"), T0).message
        == "error-rate: 2 of 2 measurement(s) successful"
    )


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"count": -1}, "count must be a whole number"),
        ({"failureLimit": "1"}, "failureLimit must be a whole number"),
        ({"consecutiveErrorLimit": True}, "consecutiveErrorLimit must be"),
        ({"interval": "soon"}, "is not a duration"),
    ],
)
def test_a_metric_that_cannot_be_judged_is_an_error(fields: dict, says: str) -> None:
    verdict = judge(metric(**fields), measurements("SSS"), T0)
    assert verdict.phase == "Error"
    assert says in verdict.message


def test_the_defaults_are_argo_s_but_one_measurement() -> None:
    assert dict(METRIC_DEFAULTS) == {
        "interval": "10s",
        "count": 1,
        "failureLimit": 0,
        "inconclusiveLimit": 0,
        "consecutiveErrorLimit": 4,
    }


RUNNING_5 = Verdict("Running", "a: 0 of 1", 5.0)
RUNNING_2 = Verdict("Running", "b: 1 of 3", 2.0)
OK = Verdict("Successful", "c: 1 of 1 measurement(s) successful")
FAILED = Verdict("Failed", "d: failed")
ERROR = Verdict("Error", "e: errors")
INCONCLUSIVE = Verdict("Inconclusive", "f: inconclusive")


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [
        ([OK], OK),
        ([OK, OK], Verdict("Successful", f"{OK.message}; {OK.message}")),
        ([OK, RUNNING_5, RUNNING_2], Verdict("Running", "a: 0 of 1; b: 1 of 3", 2.0)),
        ([RUNNING_5, FAILED], FAILED),
        ([INCONCLUSIVE, OK, RUNNING_2], INCONCLUSIVE),
        ([INCONCLUSIVE, ERROR], ERROR),
        ([ERROR, FAILED, INCONCLUSIVE], FAILED),
        ([], Verdict("Error", "the analysis has no metrics")),
    ],
)
def test_a_step_ends_at_its_worst_metric_and_passes_when_all_pass(
    verdicts: list[Verdict], expected: Verdict
) -> None:
    assert judge_all(verdicts) == expected


@pytest.mark.parametrize(
    ("success", "failure", "result", "phase"),
    [
        ("result <= 0.05", None, 0.01, "Successful"),
        ("result <= 0.05", None, 0.2, "Failed"),
        (None, "result > 0.05", 0.2, "Failed"),
        (None, "result > 0.05", 0.01, "Successful"),
        ("result <= 0.05", "result > 0.1", 0.07, "Inconclusive"),
        ("result <= 0.05", "result > 0.1", 0.2, "Failed"),
        ("result >= 0", "result >= 0", 1, "Failed"),
        (None, None, 123, "Inconclusive"),
        ("result <= 0.05", None, float("nan"), "Inconclusive"),
        ("result <= 0.05", None, "a string", "Error"),
        ("result <=", None, 0.01, "Error"),
        ("result <= 0.05", "result >", 0.01, "Error"),
    ],
)
def test_conditions_give_the_phase_of_a_measurement(
    success: str | None, failure: str | None, result: object, phase: str
) -> None:
    spec = {"successCondition": success, "failureCondition": failure}
    assert assess(spec, result)[0] == phase


def test_a_measurement_round_trips_through_status() -> None:
    taken = Measurement("Failed", "[0.2]", "successCondition 'result <= 0.05' does not hold", "a", "b")
    status = taken.to_status()
    assert status == {
        "phase": "Failed",
        "value": "[0.2]",
        "message": "successCondition 'result <= 0.05' does not hold",
        "startedAt": "a",
        "finishedAt": "b",
    }
    assert Measurement.from_status(status) == taken
    assert "value" not in Measurement("Error", None, "down", "a", "b").to_status()


def test_a_measurement_with_an_unknown_phase_reads_as_an_error() -> None:
    assert Measurement.from_status({"phase": "Passed"}).phase == "Error"
    assert Measurement.from_status({}) == Measurement("Error", None, "", "", "")


@pytest.mark.parametrize(
    ("template", "rendered"),
    [
        ('rate(x{revision="{{args.canaryRevision}}"}[1m])', 'rate(x{revision="4"}[1m])'),
        ("{{ args.release }}.{{args.namespace}}", "claims-api.claims"),
        ("no arguments", "no arguments"),
        ("{{other.thing}}", "{{other.thing}}"),
    ],
)
def test_render_fills_in_arguments(template: str, rendered: str) -> None:
    args = {"canaryRevision": "4", "release": "claims-api", "namespace": "claims"}
    assert render(template, args) == rendered


def test_render_refuses_an_unknown_argument() -> None:
    with pytest.raises(ValueError, match=r"unknown argument \{\{args.revison\}\} \(known: release\)"):
        render("{{args.revison}}", {"release": "x"})


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("10s", 10), ("500ms", 0.5), ("1m30s", 90), ("2h", 7200), ("1.5s", 1.5), ("30", 30), (7, 7)],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "-1s", "10 s", "1d", "s", "1m 30s", True, -3])
def test_bad_durations(text: object) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("body", "value"),
    [
        ('{"status":"success","data":{"resultType":"scalar","result":[1.5,"0.25"]}}', 0.25),
        (
            '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"0.1"]}]}}',
            [0.1],
        ),
        (
            '{"status":"success","data":{"resultType":"vector","result":'
            '[{"metric":{"a":"1"},"value":[1,"1"]},{"metric":{"a":"2"},"value":[1,"+Inf"]}]}}',
            [1.0, float("inf")],
        ),
    ],
)
def test_prometheus_answers_become_numbers(body: str, value: object) -> None:
    assert decode.prometheus(body) == value


def test_a_nan_sample_stays_for_the_condition_to_meet() -> None:
    body = '{"status":"success","data":{"resultType":"scalar","result":[1,"NaN"]}}'
    assert assess({"successCondition": "result <= 0.05"}, decode.prometheus(body)) == (
        "Inconclusive",
        "the result is NaN",
    )


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ('{"status":"error","errorType":"bad_data","error":"parse error"}', "bad_data: parse error"),
        ('{"status":"success","data":{"resultType":"matrix","result":[]}}', "instant vector or a scalar"),
        (
            '{"status":"success","data":{"resultType":"string","result":[1,"x"]}}',
            "instant vector or a scalar",
        ),
        ('{"status":"success","data":{"resultType":"vector","result":[{"metric":{}}]}}', "cannot be read"),
        ('{"status":"success"}', "without data"),
        ("[1]", "not an object"),
        ("<html>502</html>", "not JSON"),
    ],
)
def test_prometheus_answers_that_cannot_be_judged_are_errors(body: str, says: str) -> None:
    with pytest.raises(ProviderError, match=None) as raised:
        decode.prometheus(body)
    assert says in str(raised.value)


def test_an_empty_vector_is_no_data() -> None:
    with pytest.raises(NoData, match="empty vector"):
        decode.prometheus('{"status":"success","data":{"resultType":"vector","result":[]}}')


DOCUMENT = {"data": {"ratio": 0.02, "ok": True, "pods": [{"name": "a"}, {"name": "b"}], "odd-key": 1}}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("$", DOCUMENT),
        ("$.data.ratio", 0.02),
        ("{$.data.ok}", True),
        ("$.data.pods[1].name", "b"),
        ("$['data']['odd-key']", 1),
        ('$.data["pods"][0]', {"name": "a"}),
    ],
)
def test_json_paths_select_one_field(path: str, value: object) -> None:
    assert select(DOCUMENT, path) == value


@pytest.mark.parametrize(
    ("path", "error", "says"),
    [
        ("$.data.missing", LookupError, "$.data has no field 'missing'"),
        ("$.data.pods[2]", LookupError, "$.data.pods has no item [2]"),
        ("$.data.ratio.x", LookupError, "$.data.ratio has no field 'x'"),
        ("data.ratio", ValueError, "does not start with '$'"),
        ("$.data[*]", ValueError, "cannot read '[*]'"),
    ],
)
def test_json_paths_that_miss(path: str, error: type[Exception], says: str) -> None:
    with pytest.raises(error) as raised:
        select(DOCUMENT, path)
    assert says in str(raised.value)


def test_a_web_answer_with_a_null_field_is_no_data_and_a_missing_one_an_error() -> None:
    assert decode.web('{"a": [0.5]}', "$.a[0]") == 0.5
    with pytest.raises(NoData):
        decode.web('{"a": null}', "$.a")
    with pytest.raises(ProviderError, match="has no field 'b'"):
        decode.web('{"a": 1}', "$.b")
    with pytest.raises(ProviderError, match="not JSON"):
        decode.web("ok", "$.a")


def metric_schema() -> dict | None:
    """The schema of one analysis metric in the shipped ApiRelease CRD, when it has one."""
    node: object = schema_of("ApiRelease")
    for key in ("spec", "strategy", "canary", "steps", None, "analysis", "metrics", None):
        if not isinstance(node, dict):
            return None
        node = node.get("items") if key is None else (node.get("properties") or {}).get(key)
    return node if isinstance(node, dict) else None


def test_the_crd_declares_the_defaults_the_judge_assumes() -> None:
    schema = metric_schema()
    assert schema is not None, "the ApiRelease CRD declares no canary analysis metrics"
    declared = {key: sub["default"] for key, sub in schema["properties"].items() if "default" in sub}
    assert {key: declared.get(key) for key in METRIC_DEFAULTS} == dict(METRIC_DEFAULTS)
