"""DRF throttles whose counters live in the database (`billing.services.rate_counters`).

The client address is DRF's `get_ident`: REMOTE_ADDR, or the entry of
X-Forwarded-For that `NUM_PROXIES` trusted proxies vouch for, never a value
the client chose. Login is limited per address and per account name.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from billing.services.rate_counters import counter_key, rate_counter_hit, rate_counter_sweep

if TYPE_CHECKING:  # rest_framework.views imports this module through its settings
    from rest_framework.views import APIView

# Expired counter rows are swept by about one login in this many.
SWEEP_ONE_IN = 50


class SharedRateThrottle(SimpleRateThrottle):
    """SimpleRateThrottle's rates and scopes, with one database statement per count instead of the cache."""

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def count(self, scope: str, ident: str) -> bool:
        """Count a hit of `ident` under `scope`'s rate; False once it is over the rate."""
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(scope)
        if rate is None:
            return True
        limit, duration = self.parse_rate(rate)
        hits, remaining = rate_counter_hit(key=counter_key(scope, ident), duration=duration)
        if hits > limit:
            self._wait = remaining
            return False
        return True

    def allow_request(self, request: Request, view: APIView) -> bool:
        ident = self.get_cache_key(request, view)
        return ident is None or self.count(self.scope, ident)

    def wait(self) -> float | None:
        return getattr(self, "_wait", None)


class SharedAnonRateThrottle(SharedRateThrottle):
    scope = "anon"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return self.get_ident(request)


class SharedUserRateThrottle(SharedRateThrottle):
    scope = "user"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if request.user and request.user.is_authenticated:
            return f"user:{request.user.pk}"
        return None


class LoginRateThrottle(SharedRateThrottle):
    """Login attempts per client address (`login`) and per account name (`login_account`):
    a guesser who spreads over many addresses still meets the account's limit."""

    scope = "login"

    def allow_request(self, request: Request, view: APIView) -> bool:
        if random.randrange(SWEEP_ONE_IN) == 0:  # noqa: S311 - spreads the sweep, no secret
            rate_counter_sweep()
        if not self.count("login", self.get_ident(request)):
            return False
        username = _username(request.data)
        return username is None or self.count("login_account", username)


def _username(data: Any) -> str | None:
    if isinstance(data, dict) and isinstance(data.get("username"), str):
        return data["username"][:150]
    return None
