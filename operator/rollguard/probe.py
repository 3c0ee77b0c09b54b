"""The recovery check: HTTP requests to a Service's readiness endpoint."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import aiohttp

from rollguard.planner import ProbeResult, ProbeTarget

DEFAULT_URL_TEMPLATE = "http://{service}.{namespace}.svc:{port}"


def service_url(target: ProbeTarget, environ: os._Environ[str] | dict[str, str] | None = None) -> str:
    """The URL of the target, mapped through ROLLGUARD_SERVICE_URL_MAP or ROLLGUARD_SERVICE_URL_TEMPLATE.

    In a cluster the default template resolves through cluster DNS. A local
    runtime maps Service names to local addresses: either with a template such
    as `http://127.0.0.1:8000`, or with a JSON file of `{"namespace/service": "http://..."}`.
    """
    env = os.environ if environ is None else environ
    base: str | None = None
    if mapping_file := env.get("ROLLGUARD_SERVICE_URL_MAP"):
        mapping = json.loads(Path(mapping_file).read_text())
        base = mapping.get(f"{target.namespace}/{target.service}") or mapping.get(target.service)
    if base is None:
        template = env.get("ROLLGUARD_SERVICE_URL_TEMPLATE") or DEFAULT_URL_TEMPLATE
        base = template.format(service=target.service, namespace=target.namespace, port=target.port)
    return base.rstrip("/") + target.path


async def check(url: str, request_timeout: float) -> ProbeResult:
    """One GET: 2xx is healthy, anything else (or no answer within `request_timeout`) is not."""
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=request_timeout)) as session,
            session.get(url) as response,
        ):
            body = (await response.text())[:200].strip()
            ok = 200 <= response.status < 300
            return ProbeResult(ok=ok, message=f"GET {url}: {response.status}" + ("" if ok else f" {body}"))
    except (aiohttp.ClientError, TimeoutError) as exc:
        return ProbeResult(ok=False, message=f"GET {url}: {type(exc).__name__} {exc}".strip())


async def verify(
    url: str, *, request_timeout: float, retries: int, interval: float = 1.0
) -> tuple[ProbeResult, int]:
    """Check until healthy, at most 1 + `retries` times; the last result and the attempts made."""
    attempts = 0
    while True:
        attempts += 1
        result = await check(url, request_timeout)
        if result.ok or attempts > retries:
            return result, attempts
        await asyncio.sleep(interval)
