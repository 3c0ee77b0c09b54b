"""The label values of one request, each from a small fixed set so that series stay bounded.

A raw path would make one series per claim id; the route name (`claim-detail`,
`v2:claim-list`) is the same for every id. Methods a client invents and paths
no route matches collapse into one value each.
"""

from __future__ import annotations

from django.urls import ResolverMatch

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "other"
UNMATCHED_VIEW = "unmatched"
STATIC_VIEW = "static"


def view_label(match: ResolverMatch | None, path: str, static_prefix: str) -> str:
    """The route name of the request (namespaced, as `reverse` takes it), never its path.

    Static files are answered by WhiteNoise before any route is resolved; any
    other request without a route (a 404, a redirect to HTTPS) is `unmatched`.
    A route without a name is labelled by its pattern, which holds no ids.
    """
    if match is None:
        return STATIC_VIEW if static_prefix and path.startswith(static_prefix) else UNMATCHED_VIEW
    return match.view_name or match.route or UNMATCHED_VIEW


def method_label(method: str | None) -> str:
    """The HTTP method when it is a standard one, else `other`."""
    return method if method in METHODS else OTHER_METHOD
