"""The one module that talks to the Kubernetes API: get, list, get-or-create, patch, delete.

Credentials come from kopf's login (a `kopf.ConnectionInfo`), so the adapter
works wherever kopf does: in a pod with a service account, or with a
kubeconfig pointing at a real cluster or at the local emulator over HTTP.
"""

from __future__ import annotations

import asyncio
import base64
import builtins
import json
import ssl
import tempfile
from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, Self

import aiohttp

from rollguard import __version__
from rollguard.throttle import MAX_RETRIES, TokenBucket, backoff_delay, retry_after

_PLURALS = {
    "ApiRelease": "apireleases",
    "LoadTest": "loadtests",
    "Deployment": "deployments",
    "Job": "jobs",
    "Pod": "pods",
    "Service": "services",
    "ConfigMap": "configmaps",
    "Event": "events",
    "NetworkPolicy": "networkpolicies",
    "Ingress": "ingresses",
}


class ConnectionInfo(Protocol):
    """The parts of `kopf.ConnectionInfo` the adapter reads."""

    @property
    def server(self) -> str: ...

    @property
    def ca_path(self) -> Any: ...

    @property
    def ca_data(self) -> Any: ...

    @property
    def insecure(self) -> bool | None: ...

    @property
    def scheme(self) -> str | None: ...

    @property
    def token(self) -> str | None: ...

    @property
    def username(self) -> str | None: ...

    @property
    def password(self) -> str | None: ...

    @property
    def certificate_path(self) -> Any: ...

    @property
    def certificate_data(self) -> Any: ...

    @property
    def private_key_path(self) -> Any: ...

    @property
    def private_key_data(self) -> Any: ...


@dataclass(frozen=True)
class Connection:
    """A `ConnectionInfo` without kopf's login: a server URL and, optionally, a bearer token
    (the local emulator, which the sandbox and the tests' fake cluster talk to)."""

    server: str
    token: str | None = None
    scheme: str | None = None
    insecure: bool | None = None
    ca_path: Any = None
    ca_data: Any = None
    username: str | None = None
    password: str | None = None
    certificate_path: Any = None
    certificate_data: Any = None
    private_key_path: Any = None
    private_key_data: Any = None


class ApiError(Exception):
    def __init__(self, status: int, message: str, request: str = "") -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message
        # The request refused, as "METHOD path", for messages that say what was refused.
        self.request = request

    @property
    def permanent(self) -> bool:
        """Refusals that the same request can never overcome: bad requests, RBAC, invalid objects."""
        return self.status in (400, 401, 403, 405, 415, 422)


class TransientApiError(ApiError):
    """Worth retrying: conflicts, throttling, server errors and broken connections."""


class NotLeading(TransientApiError):
    """A write refused by this process itself: it does not hold the leader Lease (any more)."""

    def __init__(self, request: str) -> None:
        super().__init__(0, "not the leader: writes are stopped", request)


# Answers the client retries itself (after Retry-After or a backoff) before giving up.
_RETRIED = frozenset({429, 500, 502, 503, 504})


def _reason(text: str) -> str:
    """The message of a Kubernetes Status body, or the body itself."""
    try:
        body = json.loads(text)
    except ValueError:
        return text
    return str(body.get("message") or text) if isinstance(body, dict) else text


def plural_of(kind: str) -> str:
    return _PLURALS.get(kind) or kind.lower() + "s"


def _path(api_version: str, plural: str, namespace: str | None, name: str | None = None) -> str:
    base = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
    scope = f"/namespaces/{namespace}" if namespace else ""
    return f"{base}{scope}/{plural}" + (f"/{name}" if name else "")


def _data_file(data: str | bytes) -> str:
    raw = data if isinstance(data, bytes) else base64.b64decode(data)
    with tempfile.NamedTemporaryFile(delete=False, suffix=".pem") as handle:
        handle.write(raw)
    return handle.name


def _ssl_context(info: ConnectionInfo) -> ssl.SSLContext | bool:
    if info.insecure:
        return False
    context = ssl.create_default_context(cafile=str(info.ca_path) if info.ca_path else None)
    if info.ca_data:
        ca = info.ca_data if isinstance(info.ca_data, str) else info.ca_data.decode()
        context.load_verify_locations(cadata=ca if "BEGIN" in ca else base64.b64decode(ca).decode())
    cert = info.certificate_path or (_data_file(info.certificate_data) if info.certificate_data else None)
    key = info.private_key_path or (_data_file(info.private_key_data) if info.private_key_data else None)
    if cert:
        context.load_cert_chain(str(cert), str(key) if key else None)
    return context


class KubeClient:
    """A small async client; configure it with the connection kopf logged in with."""

    def __init__(
        self,
        request_timeout: float = 30.0,
        agent: str = "rollguard",
        *,
        qps: float | None = None,
        burst: int = 1,
        may_write: Callable[[], bool] | None = None,
        max_retries: int = MAX_RETRIES,
    ) -> None:
        # The agent names the caller in the API server's audit log: the operator, or its `wait` hook.
        self._agent = f"{agent}/{__version__}"
        self._info: ConnectionInfo | None = None
        self._session: aiohttp.ClientSession | None = None
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._bucket = TokenBucket(qps, burst) if qps else None
        # The leader election's fence: no write leaves a process that may have lost its Lease.
        self._may_write = may_write
        self._max_retries = max_retries
        self.retries = 0

    @classmethod
    def for_server(cls, server: str, *, token: str | None = None, **options: Any) -> Self:
        """A client of `server` that needs no login (options as for the constructor)."""
        client = cls(**options)
        client._info = Connection(server, token)
        return client

    async def configure(self, info: ConnectionInfo) -> None:
        await self.close()
        self._info = info

    def _open(self) -> aiohttp.ClientSession:
        if self._info is None:
            raise RuntimeError("KubeClient used before kopf logged in")
        if self._session is None or self._session.closed:
            headers = {"User-Agent": self._agent}
            auth = None
            if self._info.token:
                headers["Authorization"] = f"{self._info.scheme or 'Bearer'} {self._info.token}"
            elif self._info.username and self._info.password:
                auth = aiohttp.BasicAuth(self._info.username, self._info.password)
            ssl_option = _ssl_context(self._info) if self._info.server.startswith("https") else None
            self._session = aiohttp.ClientSession(
                base_url=self._info.server.rstrip("/") + "/",
                headers=headers,
                auth=auth,
                timeout=self._timeout,
                connector=aiohttp.TCPConnector(ssl=ssl_option if ssl_option is not None else True),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _paced(self) -> None:
        if self._bucket is not None and (wait := self._bucket.reserve()) > 0:
            await asyncio.sleep(wait)

    async def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        """One request, paced by the rate limit; a 429 is retried after its `Retry-After`, a 5xx
        after an exponential backoff with jitter, up to MAX_RETRIES times."""
        if method != "GET" and self._may_write is not None and not self._may_write():
            raise NotLeading(f"{method} {path}")
        attempt = 0
        while True:
            await self._paced()
            try:
                async with self._open().request(method, path.lstrip("/"), **kwargs) as response:
                    if response.status < 400:
                        return await response.json(content_type=None)
                    text = await response.text()
                    status, asked = response.status, retry_after(response.headers.get("Retry-After"))
            except (aiohttp.ClientConnectionError, TimeoutError) as exc:
                raise TransientApiError(0, f"{method} {path}: {exc!r}") from exc
            if status in _RETRIED and attempt < self._max_retries:
                delay = asked if status == 429 and asked is not None else backoff_delay(attempt)
                attempt += 1
                self.retries += 1
                await asyncio.sleep(delay)
                continue
            transient = status in (409, 429) or status >= 500
            error = TransientApiError if transient else ApiError
            raise error(status, _reason(text)[:500], f"{method} {path}")

    async def get(
        self, api_version: str, kind: str, namespace: str | None, name: str
    ) -> dict[str, Any] | None:
        try:
            return dict(await self._request("GET", _path(api_version, plural_of(kind), namespace, name)))
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    async def list(
        self, api_version: str, kind: str, namespace: str | None, labels: Mapping[str, str] | None = None
    ) -> list[dict[str, Any]]:
        selector = ",".join(f"{k}={v}" for k, v in (labels or {}).items())
        items, _ = await self.list_versioned(api_version, kind, namespace, selector)
        return items

    async def list_versioned(
        self, api_version: str, kind: str, namespace: str | None, selector: str = ""
    ) -> tuple[builtins.list[dict[str, Any]], str]:
        """The objects matching a label selector (`key`, `key=value`, ...), and the list's
        resourceVersion, from which a watch resumes."""
        params = {"labelSelector": selector} if selector else {}
        result = await self._request("GET", _path(api_version, plural_of(kind), namespace), params=params)
        version = str((result.get("metadata") or {}).get("resourceVersion") or "")
        return list(result.get("items") or []), version

    async def create(self, body: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        """Get-or-create by name: returns the object and whether this call created it."""
        meta = body["metadata"]
        path = _path(body["apiVersion"], plural_of(body["kind"]), meta.get("namespace"))
        try:
            return dict(await self._request("POST", path, json=body)), True
        except TransientApiError as exc:
            if exc.status != 409:
                raise
            existing = await self.get(body["apiVersion"], body["kind"], meta.get("namespace"), meta["name"])
            if existing is None:
                raise
            return existing, False

    async def patch(
        self,
        api_version: str,
        kind: str,
        namespace: str | None,
        name: str,
        body: Any,
        *,
        subresource: str | None = None,
    ) -> dict[str, Any]:
        """A merge patch for a dict body, a JSON patch for a list of operations."""
        content_type = (
            "application/json-patch+json" if isinstance(body, list) else "application/merge-patch+json"
        )
        path = _path(api_version, plural_of(kind), namespace, name) + (
            f"/{subresource}" if subresource else ""
        )
        return dict(await self._request("PATCH", path, json=body, headers={"Content-Type": content_type}))

    async def delete(
        self, api_version: str, kind: str, namespace: str | None, name: str, propagation: str = "Background"
    ) -> None:
        try:
            await self._request(
                "DELETE",
                _path(api_version, plural_of(kind), namespace, name),
                json={"propagationPolicy": propagation},
            )
        except ApiError as exc:
            if exc.status != 404:
                raise

    async def watch(
        self,
        api_version: str,
        kind: str,
        namespace: str | None,
        *,
        name: str | None = None,
        selector: str = "",
        resource_version: str | None = None,
        timeout_seconds: float = 60.0,
    ) -> AsyncGenerator[dict[str, Any], None]:
        """The watch events (`{"type", "object"}`) of a kind, or of one object by `name`, until the
        server closes the stream. A name becomes a field selector, which is what lets RBAC
        `resourceNames` authorize the watch; `selector` is a server-side label selector."""
        params = {"watch": "true", "timeoutSeconds": str(max(1, int(timeout_seconds)))}
        if name:
            params["fieldSelector"] = f"metadata.name={name}"
        if selector:
            params["labelSelector"] = selector
        if resource_version:
            params["resourceVersion"] = resource_version
        path = _path(api_version, plural_of(kind), namespace).lstrip("/")
        # The server ends the stream after timeoutSeconds; the client allows a little longer.
        timeout = aiohttp.ClientTimeout(total=None, sock_read=timeout_seconds + 10)
        await self._paced()
        try:
            async with self._open().get(path, params=params, timeout=timeout) as response:
                if response.status >= 400:
                    text = await response.text()
                    transient = response.status in (409, 410, 429) or response.status >= 500
                    raise (TransientApiError if transient else ApiError)(response.status, text[:500])
                buffer = b""
                async for chunk in response.content.iter_any():
                    buffer += chunk
                    *lines, buffer = buffer.split(b"\n")
                    for line in lines:
                        if line.strip():
                            yield dict(json.loads(line))
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, TimeoutError) as exc:
            raise TransientApiError(0, f"watch {path}: {exc!r}") from exc
