"""The summary table and JSON of a story."""

from rollguard_sandbox.prober import ProbeSample, ProbeTally, exposure, window
from rollguard_sandbox.report import summary, table
from rollguard_sandbox.story import PhaseSpan, ReleaseResult


def result(name, phase, expected, **extra):
    return ReleaseResult(
        name=name,
        description="",
        expected=expected,
        phase=phase,
        started=0.0,
        ended=12.5,
        spans=[
            PhaseSpan("Expanding", 0.0, 2.0),
            PhaseSpan("RollingOut", 2.0, 12.0),
            PhaseSpan(phase, 12.0, 12.0),
        ],
        **extra,
    )


def test_table_shows_phases_load_test_rollback_and_misses():
    results = [
        result(
            "initial",
            "Succeeded",
            "Succeeded",
            load_test={"phase": "Passed", "p95Ms": 88, "errorRatePercent": 0.0},
        ),
        result(
            "broken",
            "Failed",
            "RolledBack",
            rollback={"reason": "ReadyTimeout", "detectionSeconds": 20.1, "recoverySeconds": 0.5},
        ),
    ]
    text = table(results)
    assert "Passed p95 88 ms, err 0.0%" in text
    assert "ReadyTimeout: detected 20.1 s, recovered 0.5 s" in text
    assert "Failed !" in text
    assert "phases: Expanding 2s > RollingOut 10s" in text


def test_summary_is_ok_only_without_misses_and_prober_failures():
    good = [result("initial", "Succeeded", "Succeeded")]
    ok_sample = ProbeSample(1.0, "/health/ready", 200, 5.0)
    failed = ProbeSample(2.0, "/health/ready", 0, 1.0, "ClientConnectorError")
    assert summary(good, [ok_sample], 30)["ok"] is True
    data = summary(good, [ok_sample, failed], 30)
    assert data["ok"] is False
    assert data["prober"]["failed"] == [
        {"at": 2.0, "path": "/health/ready", "status": 0, "error": "ClientConnectorError", "revision": ""}
    ]
    assert summary([result("x", "Failed", "Succeeded")], [], 1)["ok"] is False


def test_failures_during_a_broken_builds_release_are_shown_but_do_not_fail_the_run():
    broken = result("broken", "RolledBack", "RolledBack", broken_build=True)  # 0 .. 12.5
    inside = ProbeSample(2.0, "/api/v1/claims/", 500, 1.0, revision="bad")
    outside = ProbeSample(20.0, "/api/v1/claims/", 500, 1.0, revision="good")
    data = summary([broken], [inside], 30)
    assert data["ok"] is True
    assert (data["prober"]["failures"], data["prober"]["unexpectedFailures"]) == (1, 0)
    data = summary([broken], [inside, outside], 30)
    assert data["ok"] is False
    assert data["prober"]["unexpectedFailures"] == 1


def test_exposure_counts_what_the_bad_revision_answered_while_it_served():
    def sample(at, status, revision):
        return ProbeSample(float(at), "/", status, 1.0, revision=revision)

    samples = [
        sample(0, 200, "good"),  # before the bad revision's first answer: outside the window
        sample(1, 500, "bad"),
        sample(2, 200, "good"),
        sample(3, 200, "bad"),
        sample(4, 0, ""),  # no answer at all: in the window, a failure, not the bad revision's
        sample(5, 500, "bad"),
        sample(6, 200, "good"),
    ]
    assert exposure(samples, "bad") == {
        "revision": "bad",
        "from": 1.0,
        "to": 5.0,
        "requests": 4,  # 1 up to 5: the last answer is left out
        "served": 2,
        "failed": 1,
        "failures": 2,
        "servedPercent": 50.0,
        "failedPercent": 25.0,
        "failuresFromRevisionPercent": 50.0,
    }
    assert exposure(samples, "never")["served"] == 0
    assert exposure(samples[:2], "bad")["served"] == 1  # one answer only: its own instant


def test_prober_tally_and_windows():
    samples = [ProbeSample(float(t), "/", 200 if t != 3 else 503, float(t)) for t in range(10)]
    assert window(samples, 2, 5) == samples[2:5]
    tally = ProbeTally.of(samples)
    assert (tally.requests, tally.failures, tally.p95_ms) == (10, 1, 9.0)
