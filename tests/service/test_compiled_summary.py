"""The payer summary runs SQL compiled once per filter shape: the same rows as its queryset
filtered by its FilterSet, for every shape, and the same 400s."""

from __future__ import annotations

import datetime
import json

import pytest
from django.db.models import QuerySet
from rest_framework.renderers import JSONRenderer

from billing.api.filters import PayerSummaryFilter
from billing.api.serializers import PayerSummarySerializer
from billing.selectors.claims import claim_payer_summary
from billing.selectors.compiled import ShapeCompiled, flat_values, nested_values

SHAPES = [
    {},
    {"payer": "{payer}"},
    {"service_date_after": "2026-02-01"},
    {"service_date_before": "2026-02-28"},
    {"service_date_after": "2026-02-01", "service_date_before": "2026-03-31"},
    {"payer": "{payer}", "service_date_after": "2026-01-20", "service_date_before": "2026-03-01"},
]


def _through_the_filterset(member, params: dict[str, str]) -> list[dict]:
    queryset = claim_payer_summary(customer=member.customer)
    filterset = PayerSummaryFilter(data=params, queryset=queryset)
    assert filterset.is_valid(), filterset.errors
    data = PayerSummarySerializer(filterset.qs, many=True).data
    return json.loads(JSONRenderer().render(data))


@pytest.mark.integration
def test_every_filter_shape_reads_as_the_filtered_queryset(world, new_claim):
    acme, payers = world.acme, world.payers
    for payer, billed, day in [
        (1, "10.00", "2026-01-10"),
        (1, "20.00", "2026-02-14"),
        (0, "5.00", "2026-03-20"),
    ]:
        new_claim(acme, world.acme_patient, payers[payer], billed=billed, service_date=day)
    new_claim(world.globex, world.globex_patient, payers[1], billed="99.00", service_date="2026-02-14")
    seen = set()
    for shape in SHAPES:
        params = {name: value.format(payer=payers[1].pk) for name, value in shape.items()}
        response = acme.client.get("/api/v1/payers/summary/", params)
        assert response.status_code == 200, response.content
        rows = response.json()["results"]
        assert rows == _through_the_filterset(acme, params), params
        seen.add(json.dumps(rows))
    # The shapes select different rows: a value put in the wrong place would show.
    assert len(seen) >= 4


@pytest.mark.integration
def test_a_bad_filter_value_is_the_filter_backends_400(world):
    response = world.acme.client.get(
        "/api/v1/payers/summary/", {"payer": "1.5", "service_date_after": "soon"}
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "payer": ["Enter a whole number."],
        "service_date": ["Enter a valid date."],
    }


def test_range_ends_flatten_and_nest_back():
    start, stop = datetime.date(2026, 1, 1), datetime.date(2026, 2, 1)
    cleaned = {"payer": 7, "service_date": slice(start, stop), "empty": None, "open": slice(None, stop)}
    flat = flat_values(cleaned)
    assert flat == {"payer": 7, "service_date.start": start, "service_date.stop": stop, "open.stop": stop}
    assert nested_values(flat) == {"payer": 7, "service_date": slice(start, stop), "open": slice(None, stop)}


class _Query:
    def __init__(self, sql: str, params: tuple) -> None:
        self.sql, self.params = sql, params

    def sql_with_params(self) -> tuple[str, tuple]:
        return self.sql, self.params


class _Built(QuerySet):
    def __init__(self, sql: str, params: tuple) -> None:
        self._q = _Query(sql, params)

    @property
    def query(self):  # type: ignore[override]
        return self._q


def test_a_value_the_sql_changes_or_repeats_cannot_be_compiled_once():
    # A LIKE filter turns its value into a pattern: its stand-in never appears as it is.
    pattern = ShapeCompiled(
        lambda values: _Built("... LIKE %s", (f"{values['name']}%",)), kinds={"name": int}
    )
    with pytest.raises(ValueError, match="name appears 0 times"):
        pattern.compiled(frozenset({"name"}))
    repeated = ShapeCompiled(lambda values: _Built("%s %s", (values["id"], values["id"])), kinds={"id": int})
    with pytest.raises(ValueError, match="id appears 2 times"):
        repeated.compiled(frozenset({"id"}))
    with pytest.raises(KeyError, match="other"):
        repeated.compiled(frozenset({"other"}))


def test_a_shape_is_compiled_once_and_each_value_lands_in_its_slot():
    built = []

    def build(values):
        built.append(dict(values))
        ordered = sorted(values)
        return _Built(
            " AND ".join(f"{name} = %s" for name in ordered) + " HAVING n > %s",
            (*(values[n] for n in ordered), 0),
        )

    compiled = ShapeCompiled(build, kinds={"a": int, "b": datetime.date})
    first = compiled.compiled(frozenset({"a", "b"}))
    assert compiled.compiled(frozenset({"b", "a"})) is first
    assert len(built) == 1
    assert first.params[-1] == 0
    assert set(first.slots) == {"a", "b"}
    assert first.params[first.slots["a"]] == built[0]["a"]
    assert first.params[first.slots["b"]] == built[0]["b"]
