"""Swagger UI and Redoc are served from the image itself: no CDN."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_load_their_assets_locally(db, url):
    response = APIClient().get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn." not in html


def test_the_sidecar_assets_are_served():
    response = APIClient().get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert response.status_code == 200


def test_the_schema_needs_no_token(db):
    response = APIClient().get("/api/schema/?format=json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "rollguard claims API"
