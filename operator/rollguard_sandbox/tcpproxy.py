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
from dataclasses import dataclass, field

from rollguard_sandbox.endpoints import ServicePort

log = logging.getLogger(__name__)

CHUNK = 65536


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
class TcpPortProxy(ServicePort):
    """One Service port in TCP mode: a listener on 127.0.0.1:`local_port` and where it sends connections."""

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
        for endpoint in self.attempts():
            with contextlib.suppress(OSError):
                return await asyncio.open_connection(endpoint.host, endpoint.port)
        return None

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
