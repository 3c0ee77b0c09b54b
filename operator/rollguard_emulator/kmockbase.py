"""What the emulator uses of KMock beyond its public API, in one place.

KMock's public face is `KubernetesEmulator` and its reactions; the emulator
replaces how that class writes, lists and watches, which only its private hooks
allow, and merges patches with KMock's own private `patch_dict`. This module
turns those hooks into methods with names of the emulator's own, so that
`server.py` touches no private name of KMock. pyproject.toml pins kmock to one
minor version; tests/operator/test_kmockbase.py fails loudly when an upgrade
moves or renames anything listed here.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import attrs
import kmock
from aiohttp import web

DISTRIBUTION = "kmock"
# Private members of kmock.KubernetesEmulator (its own or its bases') that this module reads,
# calls or overrides; attrs fields are checked on an instance.
PRIVATE_MEMBERS = (
    "_handle",
    "_render_error",
    "_get_resources",
    "_serve_list",
    "_serve_watch",
    "_serve_fetch",
    "_serve_create",
    "_serve_update",
    "_serve_delete",
)
PRIVATE_FIELDS = ("_requests", "_payloads")
# Private module attributes: (module, name).
PRIVATE_FUNCTIONS = (("kmock._internal.dicts", "patch_dict"),)


class KmockChanged(RuntimeError):
    """The installed kmock no longer has what the emulator uses: `what` says what is missing."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"{DISTRIBUTION} {importlib.metadata.version(DISTRIBUTION)} {what}: "
            "operator/rollguard_emulator/kmockbase.py is written for the minor version pinned in "
            "pyproject.toml; adapt it before moving the pin"
        )


def missing_names(emulator: object | None = None) -> list[str]:
    """The private names listed above that the installed kmock lacks (an empty list when none)."""
    missing = [name for name in PRIVATE_MEMBERS if not hasattr(kmock.KubernetesEmulator, name)]
    if emulator is not None:
        missing += [name for name in PRIVATE_FIELDS if not hasattr(emulator, name)]
    for module, name in PRIVATE_FUNCTIONS:
        try:
            found = hasattr(importlib.import_module(module), name)
        except ImportError:
            found = False
        if not found:
            missing.append(f"{module}.{name}")
    return missing


def _private_function(module: str, name: str) -> Callable[..., Any]:
    try:
        return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]
    except (ImportError, AttributeError) as exc:
        raise KmockChanged(f"has no {module}.{name}") from exc


_patch_dict = _private_function("kmock._internal.dicts", "patch_dict")


def merge_patch(target: dict[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON merge patch applied in place (KMock's own, so that both speak the same dialect)."""
    return dict(_patch_dict(target, patch))


@attrs.define(kw_only=True)
class KmockEmulator(kmock.KubernetesEmulator):
    """`kmock.KubernetesEmulator` with its private hooks under names of the emulator's own."""

    def __attrs_post_init__(self) -> None:
        if lacking := missing_names():
            raise KmockChanged(f"has no {', '.join(lacking)}")
        super().__attrs_post_init__()
        if lacking := missing_names(self):
            raise KmockChanged(f"has no {', '.join(lacking)}")

    # -- what a subclass overrides --------------------------------------------

    async def serve_request(self, request: kmock.Request) -> Any:
        """Answer one request; by default KMock's own emulator does."""
        return await super()._handle(request)

    async def serve_list(self, request: kmock.Request) -> kmock.Payload:
        return await super()._serve_list(request)  # type: ignore[no-any-return]

    async def serve_watch(self, request: kmock.Request) -> AsyncIterator[kmock.Payload]:
        async for event in super()._serve_watch(request):
            yield event

    async def error_response(self, exc: Exception, response: web.StreamResponse) -> web.StreamResponse:
        """The answer to a refused request, as KMock rendered it; a subclass may add headers."""
        return response

    # -- what a subclass calls ------------------------------------------------

    async def route(self, request: kmock.Request) -> Any:
        """KMock's routing and reactions, without `KubernetesEmulator`'s own object store logic."""
        return await super(kmock.KubernetesEmulator, self)._handle(request)

    def known_resources(self) -> Any:
        return self._get_resources()

    def trim_request_log(self, limit: int) -> None:
        """KMock keeps every request for its reactions to match against; keep the newest half."""
        if len(self._requests) > limit:
            del self._requests[: -limit // 2]

    def reaction_count(self) -> int:
        return len(self._payloads)

    def builtin_responses(self) -> dict[kmock.action, kmock.Response]:
        """The emulator's answer per action, for requests no registered reaction could match."""
        return {
            kmock.action.LIST: kmock.Response.guess(self.serve_list),
            kmock.action.WATCH: kmock.Response.guess(self.serve_watch),
            kmock.action.FETCH: kmock.Response.guess(self._serve_fetch),
            kmock.action.CREATE: kmock.Response.guess(self._serve_create),
            kmock.action.UPDATE: kmock.Response.guess(self._serve_update),
            kmock.action.DELETE: kmock.Response.guess(self._serve_delete),
        }

    # -- KMock's private hooks, routed to the methods above ---------------------

    async def _handle(self, request: kmock.Request) -> Any:
        return await self.serve_request(request)

    async def _serve_list(self, request: kmock.Request) -> kmock.Payload:
        return await self.serve_list(request)

    async def _serve_watch(self, request: kmock.Request) -> AsyncIterator[kmock.Payload]:
        async for event in self.serve_watch(request):
            yield event

    async def _render_error(self, exc: Exception) -> web.StreamResponse:
        return await self.error_response(exc, await super()._render_error(exc))
