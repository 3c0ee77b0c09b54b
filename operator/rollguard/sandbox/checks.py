"""Running one probe against a local container: HTTP GET, TCP connect or a command."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from collections.abc import Mapping
from pathlib import Path

import aiohttp

from rollguard.sandbox.probes import Probe


async def run_check(
    probe: Probe, *, ports: Mapping[str, int], env: Mapping[str, str], cwd: Path, host: str = "127.0.0.1"
) -> bool:
    """True when the probe passes: HTTP 200-399, an accepted connection, or exit code 0."""
    try:
        async with asyncio.timeout(probe.timeout):
            if probe.action == "http":
                return await _http(host, _port(probe, ports), probe.path)
            if probe.action == "tcp":
                return await _tcp(host, _port(probe, ports))
            return await _exec(probe, env, cwd)
    except (OSError, TimeoutError, aiohttp.ClientError, KeyError):
        return False


def _port(probe: Probe, ports: Mapping[str, int]) -> int:
    return ports[str(probe.port)]


async def _http(host: str, port: int, path: str) -> bool:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://{host}:{port}{path}", allow_redirects=False) as resp,
    ):
        return 200 <= resp.status < 400


async def _tcp(host: str, port: int) -> bool:
    _, writer = await asyncio.open_connection(host, port)
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def _exec(probe: Probe, env: Mapping[str, str], cwd: Path) -> bool:
    proc = await asyncio.create_subprocess_exec(
        *probe.command,
        env=dict(env),
        cwd=str(cwd),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        return await proc.wait() == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
