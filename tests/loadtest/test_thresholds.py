import pytest

from rollguard_loadtest.thresholds import Thresholds


@pytest.mark.parametrize(
    ("environ", "p95", "errors"),
    [
        ({}, 500, 5),
        ({"ROLLGUARD_P95_MS": "250"}, 250, 5),
        ({"ROLLGUARD_ERROR_RATE_PERCENT": "0.5"}, 500, 0.5),
        ({"ROLLGUARD_P95_MS": " ", "ROLLGUARD_ERROR_RATE_PERCENT": ""}, 500, 5),
        ({"ROLLGUARD_P95_MS": "1200.5", "ROLLGUARD_ERROR_RATE_PERCENT": "0"}, 1200.5, 0),
    ],
)
def test_thresholds_come_from_the_environment_with_contract_defaults(environ, p95, errors):
    thresholds = Thresholds.from_env(environ)
    assert (thresholds.p95_ms, thresholds.error_rate_percent) == (p95, errors)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"ROLLGUARD_P95_MS": "fast"}, "ROLLGUARD_P95_MS must be a number"),
        ({"ROLLGUARD_P95_MS": "0"}, "p95_ms must be positive"),
        ({"ROLLGUARD_ERROR_RATE_PERCENT": "120"}, "between 0 and 100"),
    ],
)
def test_bad_thresholds_are_refused_with_the_variable_named(environ, message):
    with pytest.raises(ValueError, match=message):
        Thresholds.from_env(environ)


def test_whole_numbers_are_written_as_integers_like_the_spec():
    assert Thresholds(500.0, 5.0).as_json() == {"p95Ms": 500, "errorRatePercent": 5}
    assert Thresholds(250, 0.5).as_json() == {"p95Ms": 250, "errorRatePercent": 0.5}
