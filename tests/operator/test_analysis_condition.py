"""Analysis conditions, pure: the small language of successCondition and failureCondition."""

from __future__ import annotations

import pytest

from rollguard.analysis.errors import ConditionError, NoData
from rollguard.analysis.model import evaluate

NAN = float("nan")


@pytest.mark.parametrize(
    ("condition", "result", "holds"),
    [
        ("result <= 0.05", 0.05, True),
        ("result <= 0.05", 0.0501, False),
        ("result < 0.05", 0.05, False),
        ("result > 1", 2, True),
        ("result >= 1e-3", 0.001, True),
        ("result == 0", 0.0, True),
        ("result != 0", 0.0, False),
        ("-1 < result", 0, True),
        ("0.95 <= result", 0.97, True),
        # a one-series vector reads as its value; Argo's spelling works too
        ("result <= 0.05", [0.01], True),
        ("result[0] <= 0.05", [0.2], False),
        ("result[1] > 0.5", [0.1, 0.9], True),
        ("len(result) == 0", [], True),
        ("len(result) == 2 && result[0] < result[1]", [1, 2], True),
        ("len(result) > 0 || false", [], False),
        ("result > 1 && result < 3", 2, True),
        ("result > 1 && result < 3", 3, False),
        ("result < 1 || result > 3", 4, True),
        ("!(result > 1)", 0, True),
        ("!!(result > 1)", 0, False),
        ("not (result > 1) and result >= 0", 0.5, True),
        ("result > 10 or result < 1", 5, False),
        # && binds tighter than ||
        ("true || false && false", 0, True),
        ("(true || false) && false", 0, False),
        ("result == true", True, True),
        ("result != false", False, False),
        ("result == 'ok'", "ok", True),
        ('result == "ok"', "degraded", False),
        ("len(result) == 2", "ok", True),
        ("len(result) == 1", {"a": 1}, True),
        ("result", True, True),
        ("  result  >  1  ", 2, True),
    ],
)
def test_a_condition_holds_or_not(condition: str, result: object, holds: bool) -> None:
    assert evaluate(condition, result) is holds


@pytest.mark.parametrize(
    ("condition", "result", "says"),
    [
        ("", 1, "empty"),
        ("result <", 1, "ends too early"),
        ("result > 1 )", 1, "unexpected ')' at column 12"),
        ("result @ 1", 1, "unexpected '@' at column 8"),
        ("foo > 1", 1, "unexpected 'foo'"),
        ("__import__('os')", 1, "unexpected '__import__'"),
        ("result.a > 1", 1, "unexpected '.'"),
        ("result[x] > 1", [1], "whole number"),
        ("result[0.5] > 1", [1], "whole number"),
        ("len(result", [1], "ends too early"),
        ("len(result]", [1], "expected ')', got ']'"),
        ("- result > 1", 1, "expected a number"),
        ("result < 1 < 2", 0, "unexpected '<'"),
        ("(" * 40 + "true" + ")" * 40, 0, "nests deeper"),
        ("result > 1 " + "&& true " * 200, 2, "longer than"),
        # it parses, but does not apply to the result
        ("result > 'a'", 1, "cannot compare a number > a string"),
        ("result < 1", [1, 2], "cannot compare a list of 2 values < a number"),
        ("result == 'ok'", True, "cannot compare a boolean == a string"),
        ("result > true", True, "cannot compare a boolean > a boolean"),
        ("result[2] > 1", [1], "out of range"),
        ("result[0] > 1", 1, "needs a list"),
        ("len(result) > 1", 1, "len() needs a list"),
        ("result && true", 1, "&& needs true or false, not a number"),
        ("!result", "x", "! needs true or false"),
        ("len(result)", [1], "gives a number, not true or false"),
    ],
)
def test_a_condition_that_does_not_parse_or_apply_is_an_error(
    condition: str, result: object, says: str
) -> None:
    with pytest.raises(ConditionError, match=None) as raised:
        evaluate(condition, result)
    assert says in str(raised.value)


@pytest.mark.parametrize(
    ("condition", "result"),
    [("result <= 0.05", NAN), ("result[0] < 1", [NAN, 0.1]), ("result > 0", None), ("result == 1", [None])],
)
def test_nan_or_null_is_no_data(condition: str, result: object) -> None:
    with pytest.raises(NoData):
        evaluate(condition, result)


def test_a_nan_elsewhere_in_the_vector_is_not_looked_at() -> None:
    assert evaluate("result[1] < 1", [NAN, 0.1]) is True
    assert evaluate("len(result) == 2", [NAN, NAN]) is True


def test_evaluation_stops_at_the_first_operand_that_decides() -> None:
    assert evaluate("len(result) == 0 || result[0] < 1", []) is True
    assert evaluate("len(result) > 0 && result[0] < 1", []) is False
