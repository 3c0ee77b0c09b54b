"""kube-proxy for Service ports that are not HTTP: each connection goes to one Ready pod, bytes as they are.

Routing is per connection (a byte stream has no requests to route one by
one): a new connection picks the next Ready endpoint, and one the pod refuses
moves on to the following endpoint. A connection keeps its pod until either
side closes it, as with kube-proxy.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from rollguard_sandbox.endpoints import PodEndpoints, RoundRobin, ready_endpoints

log = logging.getLogger(__name__)

CHUNK = 65536

EndpointSource = Callable[[], list[PodEndpoints]]


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy bytes until EOF, then half-close the other side (the protocol may still answer)."""
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        writer.close()


@dataclass
class TcpPortProxy:
    """One Service port in TCP mode: a listener on 127.0.0.1:`local_port` and where it sends connections."""

    namespace: str
    service: str
    port: int
    local_port: int
    selector: Mapping[str, str]
    target_port: int | str
    source: EndpointSource
    balancer: RoundRobin = field(default_factory=RoundRobin)
    server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._track, "127.0.0.1", self.local_port)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.server is not None:
            with contextlib.suppress(Exception):
                await self.server.wait_closed()

    async def _track(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)  # type: ignore[arg-type]
        try:
            await self._handle(reader, writer)
        finally:
            self._tasks.discard(task)  # type: ignore[arg-type]

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        tried: set[str] = set()
        while True:
            endpoints = [
                e
                for e in ready_endpoints(self.selector, self.target_port, self.source())
                if e.pod not in tried
            ]
            endpoint = self.balancer.pick(endpoints)
            if endpoint is None:
                return None
            tried.add(endpoint.pod)
            with contextlib.suppress(OSError):
                return await asyncio.open_connection(endpoint.host, endpoint.port)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream = await self._connect()
        if upstream is None:
            # No Ready pod took it: close at once, as a cluster without endpoints rejects the connection.
            log.debug("service %s/%s:%s has no ready endpoint", self.namespace, self.service, self.port)
            writer.close()
            return
        up_reader, up_writer = upstream
        try:
            await asyncio.gather(_pump(reader, up_writer), _pump(up_reader, writer))
        finally:
            for side in (up_writer, writer):
                side.close()
                with contextlib.suppress(Exception):
                    await side.wait_closed()
