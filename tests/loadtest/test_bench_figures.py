import pytest

from rollguard_loadtest.bench.figures import (
    EndpointFigures,
    Targets,
    aggregated_row,
    compare_with_floor,
    cost_ratios,
    figures_from_csv,
    missed_targets,
    render_table,
)

STATS_CSV = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Requests/s,50%,95%\n"
    "GET,/api/v2/claims/?[filters],1200,2,40,20.0,40,95\n"
    ",Aggregated,1200,2,40,20.0,40,95\n"
)
EMPTY_CSV = "Type,Name,Request Count,Failure Count,Requests/s,50%,95%\n,Aggregated,0,0,0.0,N/A,N/A\n"


def test_figures_come_from_the_aggregated_row_with_the_most_queries_of_any_page_size():
    figures = figures_from_csv("claims", STATS_CSV, queries={1: 4.0, 100: 4.0}, naive_queries=59, size=100)
    assert figures == EndpointFigures(
        "claims", 1200, 2, 40.0, 95.0, 20.0, 4.0, 59, 100, {"1": 4.0, "100": 4.0}
    )
    unpaged = figures_from_csv("create", STATS_CSV, queries={0: 8.0})
    assert (unpaged.queries, unpaged.queries_by_page_size) == (8.0, {})


def test_a_run_without_requests_has_zero_percentiles_not_a_crash():
    figures = figures_from_csv("claims", EMPTY_CSV, queries=None)
    assert (figures.p50_ms, figures.p95_ms, figures.queries) == (0.0, 0.0, None)


def test_queries_that_grow_with_the_page_are_a_missed_target():
    rows = [
        EndpointFigures("GET /health/live", 5000, 0, 4.0, 10.0, 400.0, 0.0, 0, 100),
        EndpointFigures(
            "GET /api/v2/claims/", 1200, 0, 4.0, 10.0, 100.0, 4.0, 59, 100, {"1": 3.0, "100": 4.0}
        ),
    ]
    missed = missed_targets(compare_with_floor(rows), {}, Targets())
    assert missed == [
        "GET /api/v2/claims/ at 100 claims: queries differ by page size "
        "(3 at page size 1, 4 at page size 100), target the same at every size"
    ]


def test_a_csv_without_aggregate_is_refused():
    with pytest.raises(ValueError, match="no Aggregated row"):
        aggregated_row("Type,Name\nGET,/x\n")


def test_each_endpoint_is_compared_with_the_floor_of_its_own_size():
    rows = [
        EndpointFigures("live", 5000, 0, 4.0, 10.0, 400.0, 0.0, 0, 100),
        EndpointFigures("claims", 1200, 0, 40.0, 95.0, 100.0, 4.0, 59, 100),
        EndpointFigures("live", 5000, 0, 5.0, 20.0, 400.0, 0.0, 0, 1000),
        EndpointFigures("claims", 1200, 0, 50.0, 40.0, 100.0, 4.0, 59, 1000),
    ]
    compared = compare_with_floor(rows)
    assert compared[0]["p95_x_floor"] == compared[0]["rps_x_floor"] == 1.0
    assert (compared[1]["p50_x_floor"], compared[1]["p95_x_floor"], compared[1]["rps_x_floor"]) == (
        10.0,
        9.5,
        0.25,
    )
    assert compared[3]["p95_x_floor"] == 2.0
    assert cost_ratios(rows) == {"live": 1.25, "claims": 1.25}
    table = render_table(compared, cost_ratios(rows))
    assert table.splitlines()[0].split()[:2] == ["endpoint", "claims/tenant"]
    assert "naive SQL" in table


def test_every_missed_target_is_named_with_its_figure():
    rows = [
        EndpointFigures("GET /health/live", 5000, 0, 4.0, 100.0, 400.0, 0.0, 0, 100),
        EndpointFigures("GET /api/v2/claims/", 1200, 0, 40.0, 520.0, 100.0, 5.0, 59, 100),
        EndpointFigures("GET /health/live", 5000, 0, 4.0, 100.0, 400.0, 0.0, 0, 1000),
        EndpointFigures("GET /api/v2/claims/", 1200, 0, 60.0, 900.0, 100.0, 3.0, 59, 1000),
    ]
    missed = missed_targets(compare_with_floor(rows), cost_ratios(rows), Targets())
    assert len(missed) == 4
    assert "p95 520 ms" in missed[0]
    assert "5.2 x the floor" in missed[1]
    assert "5 queries per request" in missed[2]
    assert "ratio largest/smallest size 1.5" in missed[-1]


def test_a_write_with_too_many_queries_is_a_missed_target_too():
    rows = [
        EndpointFigures("GET /health/live", 5000, 0, 4.0, 10.0, 400.0, 0.0, 0, 100),
        EndpointFigures("POST /api/v1/claims/", 1200, 0, 4.0, 10.0, 100.0, 5.0, 12, 100),
        EndpointFigures("POST /api/v1/patients/", 1200, 0, 4.0, 10.0, 100.0, 4.0, 9, 100),
    ]
    missed = missed_targets(compare_with_floor(rows), {}, Targets())
    assert missed == ["POST /api/v1/claims/ at 100 claims: 5 queries per request, target at most 4"]


def test_a_zero_floor_gives_no_ratio_rather_than_a_crash():
    floor = EndpointFigures("live", 0, 0, 0.0, 0.0, 0.0, None)
    compared = compare_with_floor([floor, EndpointFigures("x", 1, 0, 1.0, 1.0, 1.0, None)])
    assert compared[1]["p50_x_floor"] is None
    assert "-" in render_table(compared)
