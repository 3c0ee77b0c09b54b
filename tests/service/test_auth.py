"""Knox tokens: login, use, expiry, logout, and the login throttle."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

pytestmark = pytest.mark.integration

PASSWORD = "correct-horse-battery"


def _login(username="acme-admin", password=PASSWORD):
    return APIClient().post("/api/v1/auth/login/", {"username": username, "password": password})


def test_login_returns_a_working_token(acme):
    response = _login()
    assert response.status_code == 200
    token = response.json()["token"]
    assert response.json()["expiry"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/claims/").status_code == 200
    assert not AuthToken.objects.filter(digest=token).exists()  # only the hash is stored


@pytest.mark.parametrize(("username", "password"), [("acme-admin", "wrong"), ("nobody", PASSWORD)])
def test_bad_credentials_are_refused(acme, username, password):
    response = _login(username, password)
    assert response.status_code == 400
    assert response.json()["detail"] == "Unable to log in with the given username and password."


def test_a_login_without_a_customer_is_refused(db):
    from django.contrib.auth.models import User

    User.objects.create_user("loner", password=PASSWORD)
    assert _login("loner").status_code == 400


def test_logout_revokes_the_token(acme):
    assert acme.client.post("/api/v1/auth/logout/").status_code == 204
    response = acme.client.get("/api/v1/claims/")
    assert response.status_code == 401
    assert "Log in again" in response.json()["detail"]


def test_an_expired_token_is_refused_and_removed(acme):
    AuthToken.objects.update(expiry=timezone.now() - datetime.timedelta(seconds=1))
    response = acme.client.get("/api/v1/claims/")
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]
    assert not AuthToken.objects.exists()


@pytest.mark.parametrize(
    "header", ["Token", "Token a b", "Token not-a-real-token-at-all", "Token " + "z" * 64]
)
def test_malformed_or_unknown_tokens_are_refused(acme, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert client.get("/api/v1/claims/").status_code == 401


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/claims/",
        "/api/v1/patients/",
        "/api/v1/payers/",
        "/api/v1/payers/summary/",
        "/api/v1/payers/active/",
        "/api/v1/audit-events/",
        "/api/v1/",
    ],
)
def test_every_endpoint_needs_a_token(db, url):
    response = APIClient().get(url)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_member_without_a_customer_is_forbidden(db):
    from django.contrib.auth.models import User

    _, token = AuthToken.objects.create(user=User.objects.create_user("loner"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.get("/api/v1/claims/")
    assert response.status_code == 403
    assert "belongs to no customer" in response.json()["detail"]


def test_login_is_throttled_after_five_attempts(acme):
    statuses = [_login(password="wrong").status_code for _ in range(6)]
    assert statuses == [400] * 5 + [429]
    assert "throttled" in _login().json()["code"]


@pytest.mark.parametrize("tail", ["0" * 49, "z" * 49])
def test_a_token_sharing_only_the_key_prefix_is_refused(acme, tail):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {acme.token[:15]}{tail}")
    response = client.get("/api/v1/claims/")
    assert response.status_code == 401
    assert response.json()["detail"].startswith("Invalid token.")
