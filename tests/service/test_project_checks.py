"""The OpenAPI schema validates without warnings, and production settings pass `check --deploy`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.integration

SERVICE = Path(__file__).resolve().parents[2] / "service"


def _manage(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=SERVICE,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def schema(tmp_path_factory) -> dict:
    target = tmp_path_factory.mktemp("schema") / "openapi.yaml"
    result = _manage("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(target.read_text())


def test_schema_covers_the_contract(schema):
    paths = set(schema["paths"])
    assert {
        "/api/v1/claims/",
        "/api/v1/claims/{id}/",
        "/api/v1/claims/{id}/transition/",
        "/api/v1/payers/",
        "/api/v1/payers/{id}/",
        "/api/v1/payers/summary/",
        "/api/v1/payers/active/",
        "/api/v1/patients/",
        "/api/v1/patients/{id}/",
        "/api/v1/audit-events/",
        "/api/v1/audit-events/{id}/",
        "/api/v1/auth/login/",
        "/api/v1/auth/logout/",
    } <= paths


def test_every_api_operation_documents_its_errors(schema):
    for path, operations in schema["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert "429" in codes, f"{method.upper()} {path}"
            if path != "/api/v1/auth/login/":
                assert "401" in codes, f"{method.upper()} {path}"


def test_claim_filters_are_documented(schema):
    names = {p["name"] for p in schema["paths"]["/api/v1/claims/"]["get"]["parameters"]}
    assert {
        "status",
        "payer",
        "patient",
        "service_date_after",
        "service_date_before",
        "billed_min",
        "billed_max",
        "ordering",
        "search",
        "page",
        "page_size",
    } <= names


PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "DJANGO_SECRET_KEY": "x7#kq-" * 12,
    "DJANGO_ALLOWED_HOSTS": "claims.example.com",
    "DATABASE_URL": "postgresql://app@db.internal:5432/claims",
    "DJANGO_DEBUG": "false",
}


@pytest.mark.parametrize("ssl_redirect", ["true", "false"])
def test_production_settings_pass_the_deployment_checks(ssl_redirect):
    env = {**PRODUCTION_ENV, "DJANGO_SECURE_SSL_REDIRECT": ssl_redirect}
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr


_PLAIN_HTTP_STATUS = (
    "from django.test import Client; "
    "print(Client().get('/api/v1/claims/', HTTP_HOST='claims.example.com').status_code)"
)


# No database answers at db.internal: the API says 503 (each request opens its
# transaction first), unless the redirect answers before any view runs.
@pytest.mark.parametrize(("ssl_redirect", "status"), [("false", "503"), ("true", "301")])
def test_plain_http_inside_the_cluster_is_redirected_only_when_asked(ssl_redirect, status):
    # The chart renders "false": the load test and the operator call the Service over plain HTTP.
    env = {**PRODUCTION_ENV, "DJANGO_SECURE_SSL_REDIRECT": ssl_redirect}
    result = _manage("shell", "-c", _PLAIN_HTTP_STATUS, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == status


def test_development_settings_are_not_fit_for_deployment():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env={"DJANGO_ENV": "development"})
    assert result.returncode != 0
    assert "SECURE_HSTS_SECONDS" in result.stderr + result.stdout


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DATABASE_URL"])
def test_production_refuses_to_start_without_its_secrets(missing):
    env = {"DJANGO_ENV": "production", "DJANGO_SECRET_KEY": "k" * 60, "DATABASE_URL": "postgresql://a@b/c"}
    env[missing] = ""
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert missing in result.stderr
