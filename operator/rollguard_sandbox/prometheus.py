"""The sandbox's real Prometheus (Debian's `prometheus`, `make prometheus`), on a free local port.

It keeps its data under the run's state folder and reads its targets from
the file the node writes (`scrape.py`); the operator's `prometheus` analyses
query it at `url`.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from localdb import free_port
from rollguard_sandbox import processes
from rollguard_sandbox.scrape import prometheus_config

MISSING_HINT = "prometheus (make prometheus installs Debian's package)"


@dataclass(frozen=True)
class PrometheusServer:
    url: str
    targets: Path  # the file_sd file the node writes


@contextlib.asynccontextmanager
async def running_prometheus(
    folder: Path, log: Path, env: Mapping[str, str], ready_within: float = 30.0
) -> AsyncIterator[PrometheusServer]:
    binary = shutil.which("prometheus", path=env.get("PATH"))
    if binary is None:
        raise RuntimeError("the sandbox needs " + MISSING_HINT)
    targets_dir = folder / "targets"
    targets_dir.mkdir(parents=True, exist_ok=True)
    targets = targets_dir / "pods.json"
    targets.write_text("[]\n")
    config = folder / "prometheus.yml"
    config.write_text(prometheus_config(str(targets_dir)))
    port = free_port()
    proc = await processes.start_process(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={folder / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        env=env,
        cwd=folder,
        log_path=log,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await _wait_ready(url, proc, log, ready_within)
        yield PrometheusServer(url=url, targets=targets)
    finally:
        await processes.stop_process(proc, grace=10)


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]


async def _wait_ready(url: str, proc: asyncio.subprocess.Process, log: Path, within: float) -> None:
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=1)) as session:
        while time.monotonic() < deadline:
            if proc.returncode is not None:
                raise RuntimeError(
                    f"prometheus exited {proc.returncode}: {await asyncio.to_thread(_tail, log)}"
                )
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with session.get(f"{url}/-/ready") as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.2)
    tail = await asyncio.to_thread(_tail, log)
    raise RuntimeError(f"prometheus was not ready within {within:g}s: {tail}")
