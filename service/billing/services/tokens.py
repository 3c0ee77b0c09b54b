"""Issuing API tokens: knox stores only their hash and gives each an expiry."""

from __future__ import annotations

import datetime

from django.contrib.auth import authenticate
from django.utils import timezone
from knox.models import AuthToken

from billing.errors import DomainError


def token_issue(*, username: str, password: str) -> tuple[str, datetime.datetime | None]:
    """A fresh token for a member of a tenant, plus when it expires."""
    user = authenticate(username=username, password=password)
    if user is None or not hasattr(user, "membership"):
        raise DomainError("Unable to log in with the given username and password.")
    # Expired tokens are swept here rather than on every request.
    AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
    instance, token = AuthToken.objects.create(user=user)
    return token, instance.expiry
