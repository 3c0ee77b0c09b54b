"""`rollguard wait apirelease/<name>`: block until the release is Ready, stalls, or time runs out.

It reads the ApiRelease once, then watches that one object (a field selector
on its name, so a Role limited by `resourceNames` allows it) and judges every
version it sees with `planner.readiness`. A watch that ends or breaks is
resumed with a fresh read, so a dropped connection costs nothing but a request.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import kopf

from rollguard.builders.spec import API_VERSION
from rollguard.kube import ApiError, KubeClient, TransientApiError
from rollguard.planner.readiness import Readiness, readiness

KINDS = frozenset(
    {"apirelease", "apireleases", "ar", "apirel", "apirelease.rollguard.dev", "apireleases.rollguard.dev"}
)
RETRY_SECONDS = 1.0


@dataclass(frozen=True)
class Outcome:
    code: int
    line: str


def parse_reference(value: str) -> str:
    """The name in `apirelease/<name>` (also `ar/<name>`, `apireleases.rollguard.dev/<name>`)."""
    kind, _, name = value.partition("/")
    if kind.lower() not in KINDS or not name or "/" in name:
        raise ValueError(f"expected apirelease/<name>, got {value!r}")
    return name


def login() -> kopf.ConnectionInfo:
    """The pod's ServiceAccount when running in a cluster, else the current KUBECONFIG context."""
    settings = kopf.OperatorSettings()
    info = kopf.login_with_service_account(settings=settings) or kopf.login_with_kubeconfig(settings=settings)
    if info is None:
        raise kopf.LoginError("no in-cluster ServiceAccount token and no KUBECONFIG (or ~/.kube/config)")
    return info


def _verdict(reference: str, judged: Readiness) -> Outcome:
    return Outcome(0 if judged.state == "ready" else 1, f"{reference}: {judged.message}")


async def wait(kube: KubeClient, namespace: str, name: str, timeout_seconds: float) -> Outcome:
    """Exit code 0 once Ready, 1 as soon as Stalled or after `timeout_seconds`, with a one-line verdict."""
    reference = f"apirelease/{name} in {namespace}"
    deadline = time.monotonic() + timeout_seconds
    seen = ["not read yet"]
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            release = await asyncio.wait_for(kube.get(API_VERSION, "ApiRelease", namespace, name), remaining)
            if release is None:
                seen.append("not found")
            else:
                judged = readiness(release)
                if judged.finished:
                    return _verdict(reference, judged)
                seen.append(judged.message)
                version = release["metadata"].get("resourceVersion")
                watched = _watch(kube, namespace, name, version, remaining, seen)
                if outcome := await asyncio.wait_for(watched, remaining):
                    return _verdict(reference, outcome)
        except TransientApiError as exc:
            seen.append(str(exc))
        except ApiError as exc:
            return Outcome(1, f"{reference}: {exc}")
        except TimeoutError:
            break
        await asyncio.sleep(min(RETRY_SECONDS, max(0.0, deadline - time.monotonic())))
    return Outcome(1, f"{reference}: not Ready after {timeout_seconds:g}s; last seen {seen[-1]}")


async def _watch(
    kube: KubeClient, namespace: str, name: str, version: str | None, remaining: float, seen: list[str]
) -> Readiness | None:
    """The first finished verdict the watch delivers, or None when the stream ends without one;
    what each unfinished version said goes to `seen`, for the timeout's message."""
    events = kube.watch(
        API_VERSION, "ApiRelease", namespace, name=name, resource_version=version, timeout_seconds=remaining
    )
    async with contextlib.aclosing(events):
        async for event in events:
            body: Mapping[str, Any] = event.get("object") or {}
            if event.get("type") in ("ADDED", "MODIFIED") and body.get("metadata", {}).get("name") == name:
                judged = readiness(body)
                if judged.finished:
                    return judged
                seen.append(judged.message)
    return None


async def run(reference: str, namespace: str | None, timeout_seconds: float) -> Outcome:
    """Log in, wait, and close the connection."""
    name = parse_reference(reference)
    try:
        info = login()
    except kopf.LoginError as exc:
        return Outcome(1, f"{reference}: cannot log in: {exc}")
    kube = KubeClient(agent="rollguard-wait")
    await kube.configure(info)
    try:
        chosen = namespace or info.default_namespace or "default"
        return await wait(kube, chosen, name, timeout_seconds)
    finally:
        await kube.close()
