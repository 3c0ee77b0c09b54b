"""Running one probe against a local container: HTTP GET, TCP connect or a command."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from rollguard_sandbox.probes import Probe


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    detail: str = ""  # why it failed, as the kubelet's "probe failed" events say it


async def run_check(
    probe: Probe,
    *,
    ports: Mapping[str, int],
    env: Mapping[str, str],
    cwd: Path,
    host: str = "127.0.0.1",
    exec_prefix: Sequence[str] = (),
) -> CheckResult:
    """Passes on HTTP 200-399, an accepted connection, or exit code 0 (`exec_prefix` + the command)."""
    try:
        async with asyncio.timeout(probe.timeout):
            if probe.action == "http":
                return await _http(host, ports[str(probe.port)], probe.path)
            if probe.action == "tcp":
                return await _tcp(host, ports[str(probe.port)])
            return await _exec(probe, env, cwd, exec_prefix)
    except TimeoutError:
        return CheckResult(False, f"timed out after {probe.timeout:g}s")
    except KeyError:
        return CheckResult(False, f"the container has no port {probe.port}")
    except (OSError, aiohttp.ClientError) as error:
        return CheckResult(False, f"{type(error).__name__}: {error}")


async def _http(host: str, port: int, path: str) -> CheckResult:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://{host}:{port}{path}", allow_redirects=False) as resp,
    ):
        if 200 <= resp.status < 400:
            return CheckResult(True)
        body = (await resp.text(errors="replace"))[:300].strip()
        return CheckResult(False, f"HTTP probe failed with statuscode: {resp.status} {body}")


async def _tcp(host: str, port: int) -> CheckResult:
    _, writer = await asyncio.open_connection(host, port)
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return CheckResult(True)


async def _exec(probe: Probe, env: Mapping[str, str], cwd: Path, prefix: Sequence[str]) -> CheckResult:
    proc = await asyncio.create_subprocess_exec(
        *prefix,
        *probe.command,
        env=dict(env),
        cwd=str(cwd),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        code = await proc.wait()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    return CheckResult(code == 0, "" if code == 0 else f"command exited with {code}")
