"""Knox token authentication in one query: the token, its user, tenant and role together."""

from __future__ import annotations

import binascii
from hmac import compare_digest
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.models import AuthToken
from knox.settings import CONSTANTS
from rest_framework import exceptions

INVALID = "Invalid token. Log in again at /api/v1/auth/login/."
EXPIRED = "Token expired. Log in again at /api/v1/auth/login/."


class TenantTokenAuthentication(TokenAuthentication):
    """knox's scheme, minus its per-request sweep of the user's other tokens
    (done at login instead) and with the membership joined in, so that every
    request pays exactly one query for authentication and tenancy."""

    def authenticate_credentials(self, token: bytes) -> tuple[AbstractBaseUser, Any]:
        text = token.decode("utf-8", errors="replace")
        candidates = AuthToken.objects.filter(token_key=text[: CONSTANTS.TOKEN_KEY_LENGTH]).select_related(
            "user__membership__customer"
        )
        for auth_token in candidates:
            try:
                digest = hash_token(text)
            except (TypeError, binascii.Error, ValueError):
                raise exceptions.AuthenticationFailed(INVALID) from None
            if not compare_digest(digest, auth_token.digest):
                continue
            if auth_token.expiry is not None and auth_token.expiry < timezone.now():
                auth_token.delete()
                raise exceptions.AuthenticationFailed(EXPIRED)
            return self.validate_user(auth_token)
        raise exceptions.AuthenticationFailed(INVALID)
