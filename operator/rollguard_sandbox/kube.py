"""A small async client for the Kubernetes API that the sandbox runtime plays controllers against.

Reads are listings filtered here (the emulator ignores label selectors);
writes are JSON merge patches, the one patch type every emulator speaks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}
JSON_PATCH = {"Content-Type": "application/json-patch+json"}


@dataclass(frozen=True)
class Kind:
    """A resource's API path pieces."""

    group: str
    version: str
    plural: str
    kind: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str | None = None, name: str | None = None, sub: str | None = None) -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if namespace is not None:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        if name is not None:
            base += f"/{name}"
        if sub is not None:
            base += f"/{sub}"
        return base


PODS = Kind("", "v1", "pods", "Pod")
SERVICES = Kind("", "v1", "services", "Service")
SECRETS = Kind("", "v1", "secrets", "Secret")
CONFIGMAPS = Kind("", "v1", "configmaps", "ConfigMap")
DEPLOYMENTS = Kind("apps", "v1", "deployments", "Deployment")
JOBS = Kind("batch", "v1", "jobs", "Job")

# Plural names of the kinds whose plural is not simply the lower-cased kind plus "s".
_IRREGULAR_PLURALS = {"NetworkPolicy": "networkpolicies", "Ingress": "ingresses"}


def kind_of(obj: Mapping[str, Any]) -> Kind:
    """The resource of a manifest, from its apiVersion and kind."""
    group, _, version = str(obj["apiVersion"]).rpartition("/")
    kind = str(obj["kind"])
    return Kind(group, version, _IRREGULAR_PLURALS.get(kind, kind.lower() + "s"), kind)


class KubeError(Exception):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}: {body[:300]}")
        self.status = status


class KubeClient:
    """Typed-enough calls on one API server; one aiohttp session, closed by `close()`."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _call(
        self, method: str, path: str, body: Any = None, headers: Mapping[str, str] | None = None
    ) -> Any:
        async with self.session.request(method, self.base_url + path, json=body, headers=headers) as resp:
            text = await resp.text()
            if resp.status >= 400:
                raise KubeError(resp.status, text)
            return await resp.json(content_type=None) if text else None

    async def list(self, kind: Kind, namespace: str | None = None) -> list[dict[str, Any]]:
        try:
            data = await self._call("GET", kind.path(namespace))
        except KubeError as error:
            if error.status == 404:  # nothing of this kind was ever stored
                return []
            raise
        return list(data.get("items") or [])

    async def get(self, kind: Kind, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            return dict(await self._call("GET", kind.path(namespace, name)))
        except KubeError as error:
            if error.status == 404:
                return None
            raise

    async def create(self, kind: Kind, namespace: str, body: Mapping[str, Any]) -> dict[str, Any]:
        body = {"apiVersion": kind.api_version, "kind": kind.kind, **body}
        return dict(await self._call("POST", kind.path(namespace), body))

    async def patch(
        self, kind: Kind, namespace: str, name: str, body: Mapping[str, Any], *, status: bool = False
    ) -> dict[str, Any] | None:
        try:
            sub = "status" if status else None
            return dict(await self._call("PATCH", kind.path(namespace, name, sub), body, MERGE_PATCH))
        except KubeError as error:
            if error.status == 404:
                return None
            raise

    async def delete(self, kind: Kind, namespace: str, name: str) -> None:
        try:
            await self._call("DELETE", kind.path(namespace, name))
        except KubeError as error:
            if error.status != 404:
                raise

    async def apply(self, kind: Kind, namespace: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Create the object, or replace the fields it sets (like `kubectl apply`, keys it drops go too)."""
        name = body["metadata"]["name"]
        if await self.get(kind, namespace, name) is None:
            return await self.create(kind, namespace, body)
        meta = body.get("metadata") or {}
        ops = [
            {"op": "add", "path": f"/{key}", "value": value}
            for key, value in body.items()
            if key not in {"metadata", "status", "apiVersion", "kind"}
        ]
        ops += [
            {"op": "add", "path": f"/metadata/{key}", "value": meta[key]}
            for key in ("labels", "annotations")
            if key in meta
        ]
        return dict(await self._call("PATCH", kind.path(namespace, name), ops, JSON_PATCH))
