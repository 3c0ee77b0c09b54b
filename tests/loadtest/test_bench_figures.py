import pytest

from rollguard_loadtest.bench.figures import (
    EndpointFigures,
    aggregated_row,
    compare_with_floor,
    figures_from_csv,
    render_table,
)

STATS_CSV = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Requests/s,50%,95%\n"
    "GET,/api/v1/claims/?[filters],1200,2,40,20.0,40,95\n"
    ",Aggregated,1200,2,40,20.0,40,95\n"
)


def test_figures_come_from_the_aggregated_row_with_queries_per_request():
    figures = figures_from_csv("claims", STATS_CSV, queries=4800)
    assert figures == EndpointFigures("claims", 1200, 2, 40.0, 95.0, 20.0, 4.0)


def test_a_csv_without_aggregate_is_refused():
    with pytest.raises(ValueError, match="no Aggregated row"):
        aggregated_row("Type,Name\nGET,/x\n")


def test_each_endpoint_is_compared_with_the_floor():
    floor = EndpointFigures("live", 5000, 0, 4.0, 10.0, 400.0, 0.0)
    claims = EndpointFigures("claims", 1200, 0, 40.0, 95.0, 100.0, 4.0)
    compared = compare_with_floor([floor, claims])
    assert compared[0]["p50_vs_floor"] == compared[0]["rps_vs_floor"] == 1.0
    assert (compared[1]["p50_vs_floor"], compared[1]["p95_vs_floor"], compared[1]["rps_vs_floor"]) == (
        10.0,
        9.5,
        0.25,
    )
    table = render_table(compared)
    assert table.splitlines()[0].split()[:2] == ["endpoint", "requests"]
    assert "claims" in table


def test_a_zero_floor_gives_no_ratio_rather_than_a_crash():
    floor = EndpointFigures("live", 0, 0, 0.0, 0.0, 0.0, None)
    compared = compare_with_floor([floor, EndpointFigures("x", 1, 0, 1.0, 1.0, 1.0, None)])
    assert compared[1]["p50_vs_floor"] is None
    assert "-" in render_table(compared)
