"""The benchmark's measurements run against real seeded data."""

from __future__ import annotations

import pytest
from bench import measure_endpoints

from billing.demo import seed_demo

pytestmark = pytest.mark.integration


def test_every_endpoint_is_measured(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    token = seed_demo(claims=50, patients=5, password="pw-for-bench")[0].token
    figures = measure_endpoints(token, repeat=2)
    assert "GET /api/v1/payers/summary/" in figures
    assert "POST /api/v1/claims/" in figures
    for timing in figures.values():
        assert 0 < timing["p50_ms"] <= timing["max_ms"]
