"""The API's request metrics: bounded labels (route names, never paths) and counts that match the requests."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import resolve
from exposition import grew, samples
from prometheus_client import generate_latest

from config.metrics.instruments import API_REGISTRY, LABELS, REQUEST_DURATION, REQUESTS_TOTAL
from config.metrics.labels import method_label, view_label


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/v1/claims/123456/", "claim-detail"),
        ("/api/v2/claims/", "v2:claim-list"),
        ("/api/v1/payers/summary/", "payer-payer-summary"),
        ("/health/ready", "health-ready"),
    ],
)
def test_a_routed_request_is_labelled_by_its_route_name(path, expected):
    assert view_label(resolve(path), path, "/static/") == expected


def test_a_request_without_a_route_is_static_or_unmatched():
    assert view_label(None, "/static/drf_spectacular_sidecar/x.js", "/static/") == "static"
    assert view_label(None, "/api/v1/claims/123456/nope/", "/static/") == "unmatched"
    assert view_label(None, "/anything", "") == "unmatched"


@pytest.mark.parametrize(
    ("method", "expected"), [("GET", "GET"), ("PATCH", "PATCH"), ("PROPFIND", "other"), (None, "other")]
)
def test_methods_outside_the_standard_ones_share_one_label(method, expected):
    assert method_label(method) == expected


def _scrape(name: str = REQUESTS_TOTAL):
    return samples(generate_latest(API_REGISTRY).decode(), name)


def _series(view: str, method: str, status: int, revision: str = "r-test") -> tuple[tuple[str, str], ...]:
    labels = {"view": view, "method": method, "status": str(status), "revision": revision}
    return tuple(sorted(labels.items()))


@pytest.mark.integration
def test_requests_are_counted_by_route_method_status_and_revision(world, settings):
    settings.API_REVISION = "r-test"
    acme = Client(headers={"Authorization": f"Token {world.acme.token}"})
    own, foreign = world.acme_claim.pk, world.globex_claim.pk
    before, durations_before = _scrape(), _scrape(f"{REQUEST_DURATION}_count")

    assert acme.get(f"/api/v1/claims/{own}/").status_code == 200
    assert acme.get(f"/api/v1/claims/{foreign}/").status_code == 404
    assert acme.get("/api/v2/claims/").status_code == 200
    assert acme.get("/api/v2/claims/").status_code == 200
    assert acme.generic("PROPFIND", "/health/live").status_code == 405
    assert acme.get(f"/api/v1/claims/{own}/no-such-route/").status_code == 404

    expected = {
        _series("claim-detail", "GET", 200): 1,
        _series("claim-detail", "GET", 404): 1,
        _series("v2:claim-list", "GET", 200): 2,
        _series("health-live", "other", 405): 1,
        _series("unmatched", "GET", 404): 1,
    }
    after = _scrape()
    assert grew(before, after) == expected
    assert grew(durations_before, _scrape(f"{REQUEST_DURATION}_count")) == expected
    for series in after:
        assert {label for label, _ in series} == set(LABELS)
        labels = dict(series)
        assert "/" not in labels["view"], series
        assert not re.search(rf"\b({own}|{foreign})\b", labels["view"]), series


def test_the_middleware_comes_first_so_its_time_covers_every_other(settings):
    assert settings.MIDDLEWARE[0] == "config.metrics.middleware.RequestMetricsMiddleware"
