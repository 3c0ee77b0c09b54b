"""Release-drill aids: the revision header on every answer, and routes broken on purpose."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from exposition import grew, samples
from prometheus_client import generate_latest

from config.metrics.instruments import API_REGISTRY, REQUESTS_TOTAL

SERVICE = Path(__file__).resolve().parents[2] / "service"


def _series(view: str, status: int) -> tuple[tuple[str, str], ...]:
    labels = {"view": view, "method": "GET", "status": str(status), "revision": "r-drill"}
    return tuple(sorted(labels.items()))


@pytest.mark.integration
def test_a_fault_route_answers_500_counted_while_readiness_and_other_routes_work(world, settings):
    settings.API_REVISION = "r-drill"
    settings.API_FAULT_ROUTES = ["claim-list"]
    client = Client(headers={"Authorization": f"Token {world.acme.token}"})
    before = samples(generate_latest(API_REGISTRY).decode(), REQUESTS_TOTAL)

    broken = client.get("/api/v1/claims/?page_size=1")
    assert broken.status_code == 500
    assert broken.json()["code"] == "fault_injected"
    assert broken["X-Api-Revision"] == "r-drill"
    detail = client.get(f"/api/v1/claims/{world.acme_claim.pk}/")
    assert detail.status_code == 200
    assert detail["X-Api-Revision"] == "r-drill"
    assert client.get("/health/ready").status_code == 200

    after = samples(generate_latest(API_REGISTRY).decode(), REQUESTS_TOTAL)
    grown = grew(before, after)
    assert grown[_series("claim-list", 500)] == 1
    assert grown[_series("claim-detail", 200)] == 1


@pytest.mark.integration
def test_without_fault_routes_nothing_is_broken(world, settings):
    settings.API_FAULT_ROUTES = []
    client = Client(headers={"Authorization": f"Token {world.acme.token}"})
    assert client.get("/api/v1/claims/?page_size=1").status_code == 200


def test_production_refuses_fault_routes():
    env = {
        **os.environ,
        "DJANGO_ENV": "production",
        "DJANGO_SECRET_KEY": "x" * 50,
        "DATABASE_URL": "postgresql://u@127.0.0.1:1/db",
        "API_FAULT_ROUTES": "claim-list",
    }
    proc = subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        cwd=SERVICE, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode != 0
    assert "API_FAULT_ROUTES" in proc.stderr
