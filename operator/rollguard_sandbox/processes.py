"""Local processes in their own process groups, and the registry that guarantees none outlives us.

Every process starts a new session, so a signal to its group also reaches
what it forked (gunicorn workers, locust workers). The registry is what the
atexit and signal handlers walk on the way out.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import psutil


class ProcessRegistry:
    """Process groups started by this program, killed together on exit."""

    def __init__(self) -> None:
        self._groups: set[int] = set()
        self._lock = threading.Lock()

    def add(self, pgid: int) -> None:
        with self._lock:
            self._groups.add(pgid)

    def discard(self, pgid: int) -> None:
        with self._lock:
            self._groups.discard(pgid)

    @property
    def groups(self) -> set[int]:
        with self._lock:
            return set(self._groups)

    def kill_all(self, grace: float = 3.0) -> None:
        """SIGTERM every group, then SIGKILL whatever is still alive after `grace` seconds."""
        groups = self.groups
        for pgid in groups:
            signal_group(pgid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(group_alive(pgid) for pgid in groups):
            time.sleep(0.05)
        for pgid in groups:
            signal_group(pgid, signal.SIGKILL)
            self.discard(pgid)


REGISTRY = ProcessRegistry()

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Runs in the child before exec: SIGKILL it if we die without cleaning up (kill -9)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def group_members(pgid: int) -> list[psutil.Process]:
    """Live (non-zombie) processes whose process group is `pgid`."""
    members = []
    for proc in psutil.process_iter(["pid", "status"]):
        with contextlib.suppress(psutil.Error):
            if proc.info["status"] != psutil.STATUS_ZOMBIE and os.getpgid(proc.pid) == pgid:
                members.append(proc)
    return members


def group_alive(pgid: int) -> bool:
    return bool(group_members(pgid))


def live_descendants(pids: Iterable[int] | None = None) -> list[psutil.Process]:
    """Non-zombie descendants of this process (or of `pids`)."""
    roots = [psutil.Process(pid) for pid in pids] if pids is not None else [psutil.Process()]
    found = []
    for root in roots:
        with contextlib.suppress(psutil.Error):
            for child in root.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    if child.status() != psutil.STATUS_ZOMBIE:
                        found.append(child)
    return found


async def start_process(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    log_path: Path,
    registry: ProcessRegistry = REGISTRY,
) -> asyncio.subprocess.Process:
    """Start `argv` in a new session with stdout and stderr appended to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            env=dict(env),
            cwd=str(cwd),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
    registry.add(proc.pid)
    return proc


async def stop_process(
    proc: asyncio.subprocess.Process, *, grace: float, registry: ProcessRegistry = REGISTRY
) -> int:
    """SIGTERM the process group, SIGKILL it after `grace` seconds; return the leader's exit code."""
    pgid = proc.pid
    if proc.returncode is None:
        signal_group(pgid, signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), timeout=grace)
        except TimeoutError:
            signal_group(pgid, signal.SIGKILL)
            await proc.wait()
    await reap_group(pgid, registry=registry)
    assert proc.returncode is not None
    return proc.returncode


async def reap_group(pgid: int, *, registry: ProcessRegistry = REGISTRY, grace: float = 2.0) -> None:
    """Make sure nothing of a finished leader's group lingers (orphaned workers), then forget it."""
    deadline = time.monotonic() + grace
    while group_alive(pgid) and time.monotonic() < deadline:
        signal_group(pgid, signal.SIGTERM)
        await asyncio.sleep(0.1)
    signal_group(pgid, signal.SIGKILL)
    registry.discard(pgid)
