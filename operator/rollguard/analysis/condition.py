"""successCondition and failureCondition: a small expression language over `result`.

Conditions come from a custom resource, so they are parsed, never given to `eval`.
The grammar is the part of Argo Rollouts' expression language that analysis
conditions use in practice:

    condition  := or
    or         := and (("||" | "or") and)*
    and        := not (("&&" | "and") not)*
    not        := ("!" | "not") not | comparison
    comparison := operand (("<" | "<=" | ">" | ">=" | "==" | "!=") operand)?
    operand    := "result" ("[" integer "]")* | "len" "(" operand ")" | "(" condition ")"
                | ["-"] number | string | "true" | "false"

Numbers compare with numbers, strings and booleans only with `==` and `!=`. A list of
exactly one value compares as that value, so `result < 0.05` and `result[0] < 0.05`
mean the same for a one-series Prometheus vector. A comparison that meets NaN or
null has no data to judge (`NoData`); anything else that does not fit is a
`ConditionError`.
"""

from __future__ import annotations

import functools
import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn, TypeGuard

from rollguard.analysis.errors import ConditionError, NoData

MAX_LENGTH = 1024
MAX_DEPTH = 32

Compiled = Callable[[object], object]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
      | (?P<string>"[^"\\]*"|'[^'\\]*')
      | (?P<name>[A-Za-z_]\w*)
      | (?P<op>&&|\|\||[<>=!]=|[<>!()\[\]-])
    )""",
    re.VERBOSE,
)
_COMPARISONS: Mapping[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
_WORDS = {"or": "||", "and": "&&", "not": "!"}


def evaluate(condition: str, result: object) -> bool:
    """Whether `condition` holds for `result` (a number, a list of numbers, or a JSON value).

    Raises ConditionError when the condition does not parse or does not apply to
    the result, and NoData when it would have to compare NaN or null.
    """
    value = compile_condition(condition)(result)
    if not isinstance(value, bool):
        raise ConditionError(f"condition {condition!r} gives {_kind(value)}, not true or false")
    return value


@functools.lru_cache(maxsize=256)
def compile_condition(condition: str) -> Compiled:
    """The condition as a function of `result`; raises ConditionError when it does not parse."""
    if len(condition) > MAX_LENGTH:
        raise ConditionError(f"condition is longer than {MAX_LENGTH} characters")
    return _Parser(condition).parse()


Token = tuple[str, str, int]


def _tokens(text: str) -> list[Token]:
    found: list[Token] = []
    position = 0
    while text[position:].strip():
        match = _TOKEN.match(text, position)
        if match is None or match.lastgroup is None:
            column = len(text) - len(text[position:].lstrip()) + 1
            raise ConditionError(f"unexpected {text[column - 1]!r} at column {column} of {text!r}")
        kind, word = match.lastgroup, match.group(match.lastgroup)
        if kind == "name" and word in _WORDS:
            kind, word = "op", _WORDS[word]
        found.append((kind, word, match.start(kind) + 1))
        position = match.end()
    return found


class _Parser:
    """Recursive descent over the tokens, building closures (no AST, no eval)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.index = 0
        self.depth = 0

    def parse(self) -> Compiled:
        if not self.tokens:
            raise ConditionError("condition is empty")
        compiled = self._or()
        if self.index < len(self.tokens):
            self._fail("unexpected")
        return compiled

    def _peek(self) -> str | None:
        return self.tokens[self.index][1] if self.index < len(self.tokens) else None

    def _take(self) -> Token:
        if self.index >= len(self.tokens):
            raise ConditionError(f"condition {self.text!r} ends too early")
        token = self.tokens[self.index]
        self.index += 1
        return token

    def _expect(self, word: str) -> None:
        if self._peek() != word:
            self._fail(f"expected {word!r}, got")
        self.index += 1

    def _fail(self, what: str) -> NoReturn:
        if self.index >= len(self.tokens):
            raise ConditionError(f"condition {self.text!r} ends too early")
        _, word, column = self.tokens[self.index]
        raise ConditionError(f"{what} {word!r} at column {column} of {self.text!r}")

    def _nested(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ConditionError(f"condition nests deeper than {MAX_DEPTH}")

    def _or(self) -> Compiled:
        left = self._and()
        while self._peek() == "||":
            self.index += 1
            left = _either(left, self._and())
        return left

    def _and(self) -> Compiled:
        left = self._not()
        while self._peek() == "&&":
            self.index += 1
            left = _both(left, self._not())
        return left

    def _not(self) -> Compiled:
        if self._peek() == "!":
            self.index += 1
            self._nested()
            inner = self._not()
            self.depth -= 1
            return lambda result: not _truth(inner(result), "!")
        return self._comparison()

    def _comparison(self) -> Compiled:
        left = self._operand()
        word = self._peek()
        if word not in _COMPARISONS:
            return left
        self.index += 1
        right = self._operand()
        assert word is not None
        return lambda result: _compare(word, left(result), right(result))

    def _operand(self) -> Compiled:
        kind, word, _ = self._take()
        self.index -= 1
        compiled: Compiled
        if kind == "number" or word == "-":
            compiled = self._number()
        elif kind == "string":
            self.index += 1
            text = word[1:-1]
            compiled = lambda result: text  # noqa: E731
        elif word in ("true", "false"):
            self.index += 1
            flag = word == "true"
            compiled = lambda result: flag  # noqa: E731
        elif word == "result":
            self.index += 1
            compiled = _identity
        elif word == "len":
            self.index += 1
            self._expect("(")
            compiled = _length(self._nested_operand())
            self._expect(")")
        elif word == "(":
            self.index += 1
            self._nested()
            compiled = self._or()
            self.depth -= 1
            self._expect(")")
        else:
            self._fail("unexpected")
        while self._peek() == "[":
            self.index += 1
            kind, word, column = self._take()
            if kind != "number" or not word.isdigit():
                raise ConditionError(
                    f"an index is a whole number, not {word!r} (column {column} of {self.text!r})"
                )
            compiled = _item(compiled, int(word))
            self._expect("]")
        return compiled

    def _nested_operand(self) -> Compiled:
        self._nested()
        compiled = self._operand()
        self.depth -= 1
        return compiled

    def _number(self) -> Compiled:
        sign = 1.0
        if self._peek() == "-":
            self.index += 1
            sign = -1.0
        kind, word, column = self._take()
        if kind != "number":
            raise ConditionError(
                f"expected a number after '-', got {word!r} at column {column} of {self.text!r}"
            )
        number = sign * float(word)
        return lambda result: number


def _identity(result: object) -> object:
    return result


def _either(left: Compiled, right: Compiled) -> Compiled:
    return lambda result: _truth(left(result), "||") or _truth(right(result), "||")


def _both(left: Compiled, right: Compiled) -> Compiled:
    return lambda result: _truth(left(result), "&&") and _truth(right(result), "&&")


def _length(inner: Compiled) -> Compiled:
    def length(result: object) -> object:
        value = inner(result)
        if isinstance(value, str | Sequence | Mapping):
            return len(value)
        raise ConditionError(f"len() needs a list or a string, not {_kind(value)}")

    return length


def _item(inner: Compiled, index: int) -> Compiled:
    def item(result: object) -> object:
        value = inner(result)
        if not isinstance(value, Sequence) or isinstance(value, str):
            raise ConditionError(f"[{index}] needs a list, not {_kind(value)}")
        if index >= len(value):
            raise ConditionError(f"[{index}] is out of range: the list has {len(value)} value(s)")
        return value[index]

    return item


def _truth(value: object, word: str) -> bool:
    if isinstance(value, bool):
        return value
    raise ConditionError(f"{word} needs true or false, not {_kind(value)}")


def _single(value: object) -> object:
    if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 1:
        return value[0]
    return value


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _compare(word: str, left: object, right: object) -> bool:
    left, right = _single(left), _single(right)
    if left is None or right is None:
        raise NoData("the result is null")
    if _is_number(left) and _is_number(right):
        if math.isnan(left) or math.isnan(right):
            raise NoData("the result is NaN")
        return _COMPARISONS[word](left, right)
    same_kind = type(left) is type(right) and isinstance(left, bool | str)
    if same_kind and word in ("==", "!="):
        return _COMPARISONS[word](left, right)
    raise ConditionError(f"cannot compare {_kind(left)} {word} {_kind(right)}")


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if _is_number(value):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, Sequence):
        return f"a list of {len(value)} values"
    return type(value).__name__
