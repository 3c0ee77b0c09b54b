"""Knox token authentication in one statement: the token, its user, tenant and role together,
and the tenant set for row-level security in the same statement."""

from __future__ import annotations

import binascii
import functools
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import Model
from django.utils import timezone
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.models import AuthToken
from rest_framework import exceptions

from billing.models import Customer, Membership
from billing.tenancy import set_tenant_sql
from config.prepared import prepared_cursor

INVALID = "Invalid token. Log in again at /api/v1/auth/login/."
EXPIRED = "Token expired. Log in again at /api/v1/auth/login/."

#: Token, user, membership and customer, each with every concrete column, in the order of `_lookup_sql`.
_MODELS: tuple[type[Model], ...] = (AuthToken, get_user_model(), Membership, Customer)


def _columns(alias: str, model: type[Model]) -> list[str]:
    return [f'{alias}."{field.column}"' for field in model._meta.concrete_fields]


@functools.cache
def _lookup_sql() -> str:
    """The token by digest (knox's primary key), joined to its user, membership and customer,
    setting the tenant: written once from the models' metadata rather than compiled by the ORM
    on every request."""
    token, user, membership, customer = (model._meta.db_table for model in _MODELS)
    columns = [col for alias, model in zip("tumc", _MODELS, strict=True) for col in _columns(alias, model)]
    # Names from the models' metadata only; the digest is a parameter.
    return (
        f"SELECT {', '.join(columns)}, {set_tenant_sql('m.customer_id')} "  # noqa: S608
        f'FROM "{token}" t INNER JOIN "{user}" u ON u.id = t.user_id '
        f'LEFT OUTER JOIN "{membership}" m ON m.user_id = u.id '
        f'LEFT OUTER JOIN "{customer}" c ON c.id = m.customer_id '
        "WHERE t.digest = %s LIMIT 1"
    )


def _instances(row: tuple[Any, ...]) -> list[Model | None]:
    """One instance per model of `_MODELS` from a row of `_lookup_sql` (None for a missing membership)."""
    found: list[Model | None] = []
    start = 0
    for model in _MODELS:
        width = len(model._meta.concrete_fields)
        values = row[start : start + width]
        start += width
        found.append(None if values[0] is None else model.from_db(connection.alias, None, values))
    return found


def token_lookup(digest: str) -> AuthToken | None:
    """The token of `digest` with its user, the user's membership and customer cached on it
    (as `select_related` would), and the tenant set for the rest of the transaction."""
    with prepared_cursor() as cursor:
        cursor.execute(_lookup_sql(), [digest])
        row = cursor.fetchone()
    if row is None:
        return None
    auth_token, user, membership, customer = _instances(row)
    assert isinstance(auth_token, AuthToken), "token_lookup() found a row without a token"
    assert user is not None, "token_lookup() found a token without a user (the join is inner)"
    AuthToken.user.field.set_cached_value(auth_token, user)
    Membership.user.field.remote_field.set_cached_value(user, membership)
    if isinstance(membership, Membership):
        Membership.user.field.set_cached_value(membership, user)
        Membership.customer.field.set_cached_value(membership, customer)
    return auth_token


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
        auth_token = token_lookup(digest)
        if auth_token is None:
            raise exceptions.AuthenticationFailed(INVALID)
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            auth_token.delete()
            raise exceptions.AuthenticationFailed(EXPIRED)
        return self.validate_user(auth_token)
