"""Knox token authentication in one query: the token, its user, tenant and role together,
and the tenant set for row-level security in the same statement."""

from __future__ import annotations

import binascii
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import F, Func, TextField, Value
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.models import AuthToken
from rest_framework import exceptions

from billing.tenancy import TENANT_SETTING

INVALID = "Invalid token. Log in again at /api/v1/auth/login/."
EXPIRED = "Token expired. Log in again at /api/v1/auth/login/."


def _set_tenant_from(column: str) -> Func:
    """`set_config(rollguard.customer, <column>, true)`: the row's tenant for the rest of the transaction."""
    return Func(
        Value(TENANT_SETTING),
        Coalesce(Cast(F(column), TextField()), Value("")),
        Value(True),
        function="set_config",
        output_field=TextField(),
    )


class TenantTokenAuthentication(TokenAuthentication):
    """knox's scheme, minus its per-request sweep of the user's other tokens
    (done at login instead), looked up by digest (knox's primary key), with the
    membership joined in and the tenant setting folded into the same query, so
    that every request pays exactly one statement for authentication and tenancy.
    The setting is transaction-local: tenant views run each request in one transaction."""

    def authenticate_credentials(self, token: bytes) -> tuple[AbstractBaseUser, Any]:
        text = token.decode("utf-8", errors="replace")
        try:
            digest = hash_token(text)
        except (TypeError, binascii.Error, ValueError):
            raise exceptions.AuthenticationFailed(INVALID) from None
        found = list(
            AuthToken.objects.filter(digest=digest)
            .select_related("user__membership__customer")
            .annotate(tenant_set=_set_tenant_from("user__membership__customer_id"))[:1]
        )
        if not found:
            raise exceptions.AuthenticationFailed(INVALID)
        auth_token = found[0]
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            auth_token.delete()
            raise exceptions.AuthenticationFailed(EXPIRED)
        return self.validate_user(auth_token)
