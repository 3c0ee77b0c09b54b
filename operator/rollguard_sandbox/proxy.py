"""kube-proxy for the sandbox: one local listener per Service port, routing to Ready pods.

HTTP ports (see `port_mode`) are forwarded per request, here; TCP ports per
connection, by `tcpproxy.TcpPortProxy`.

Routing happens per request rather than per connection, so a client that
keeps its connection open still moves off a pod the moment the pod leaves
the endpoints; that is what lets a terminating pod drain without failures.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from localdb import free_port
from rollguard_sandbox.endpoints import EndpointSource, PortMode, ServicePort, port_mode
from rollguard_sandbox.tcpproxy import TcpPortProxy

log = logging.getLogger(__name__)

HOP_HEADERS = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}


@dataclass
class PortProxy(ServicePort):
    """One Service port: a listener on 127.0.0.1:`local_port` and where it sends requests."""

    runner: web.ServerRunner | None = None
    session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self.runner = web.ServerRunner(web.Server(self._handle, access_log=None))
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.local_port).start()
        # A fresh connection per request: a pooled one may point at a pod that has just gone.
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(force_close=True),
            timeout=aiohttp.ClientTimeout(total=60),
            auto_decompress=False,
        )

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
        if self.session is not None:
            await self.session.close()

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        assert self.session is not None
        body = await request.read()
        headers = {key: value for key, value in request.headers.items() if key.lower() not in HOP_HEADERS}
        headers["Host"] = f"{self.service}.{self.namespace}.svc"
        for endpoint in self.attempts():
            url = f"http://{endpoint.host}:{endpoint.port}{request.rel_url}"
            try:
                async with self.session.request(
                    request.method, url, headers=headers, data=body, allow_redirects=False
                ) as upstream:
                    payload = await upstream.read()
                    reply = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_HEADERS}
                    return web.Response(status=upstream.status, body=payload, headers=reply)
            except aiohttp.ClientConnectorError:
                # Nothing reached the pod, so any method may go to the next one.
                continue
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
                if request.method not in {"GET", "HEAD", "OPTIONS"}:
                    return web.Response(status=502, text="upstream closed the connection\n")
        return web.Response(status=503, text=f"no ready endpoints for service {self.service}\n")


def _mode(proxy: PortProxy | TcpPortProxy) -> PortMode:
    return "tcp" if isinstance(proxy, TcpPortProxy) else "http"


class ServiceProxies:
    """The listeners of every Service, created when a Service appears and closed when it goes."""

    def __init__(self, source: EndpointSource) -> None:
        self.source = source
        self._reserved: dict[tuple[str, str, int], int] = {}
        self._proxies: dict[tuple[str, str, int], PortProxy | TcpPortProxy] = {}

    def reserve(self, namespace: str, service: str, port: int) -> int:
        """The local port of a Service port, fixed before the Service exists (for URLs set up front)."""
        key = (namespace, service, port)
        if key not in self._reserved:
            self._reserved[key] = free_port()
        return self._reserved[key]

    def url(self, namespace: str, service: str, port: int) -> str:
        return f"http://127.0.0.1:{self.reserve(namespace, service, port)}"

    def hosts(self) -> dict[str, str]:
        """In-cluster names of every known Service port -> its local address."""
        hosts: dict[str, str] = {}
        for (namespace, service, port), local in sorted(self._reserved.items()):
            target = f"127.0.0.1:{local}"
            for name in (
                service,
                f"{service}.{namespace}",
                f"{service}.{namespace}.svc",
                f"{service}.{namespace}.svc.cluster.local",
            ):
                hosts[f"{name}:{port}"] = target
                if port == 80 or name not in hosts:
                    hosts[name] = target
        return hosts

    async def sync(self, services: list[dict[str, Any]]) -> None:
        wanted: dict[tuple[str, str, int], dict[str, Any]] = {}
        for svc in services:
            meta, spec = svc["metadata"], svc.get("spec") or {}
            if meta.get("deletionTimestamp"):
                continue
            for port in spec.get("ports") or ():
                key = (meta.get("namespace", "default"), meta["name"], int(port["port"]))
                wanted[key] = {
                    "selector": spec.get("selector") or {},
                    "target": port.get("targetPort", port["port"]),
                    "mode": port_mode(port),
                }
        for key, proxy in list(self._proxies.items()):
            if key not in wanted or _mode(proxy) != wanted[key]["mode"]:
                await proxy.stop()
                del self._proxies[key]
        for key, want in wanted.items():
            existing = self._proxies.get(key)
            if existing is not None:
                existing.selector, existing.target_port = want["selector"], want["target"]
                continue
            kind = TcpPortProxy if want["mode"] == "tcp" else PortProxy
            proxy = kind(
                namespace=key[0],
                service=key[1],
                port=key[2],
                local_port=self.reserve(*key),
                selector=want["selector"],
                target_port=want["target"],
                source=self.source,
            )
            try:
                await proxy.start()
            except OSError as error:
                log.warning("service %s/%s:%s cannot listen: %s", key[0], key[1], key[2], error)
                with contextlib.suppress(Exception):
                    await proxy.stop()
                continue
            self._proxies[key] = proxy

    async def close(self) -> None:
        for proxy in self._proxies.values():
            await proxy.stop()
        self._proxies.clear()
