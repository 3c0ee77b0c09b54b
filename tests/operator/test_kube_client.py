"""The API client honours the API server: Retry-After on 429, backoff on 5xx, its own rate limit."""

from __future__ import annotations

import time

import kopf
import pytest
from operator_harness import NAMESPACE, release_manifest

from rollguard.kube import KubeClient, TransientApiError

pytestmark = pytest.mark.integration
RELEASES = "rollguard.dev/v1alpha1"


async def client(api, **options) -> KubeClient:
    kube = KubeClient(5.0, **options)
    await kube.configure(kopf.ConnectionInfo(server=api.url, token="client-test"))
    return kube


def reads(api) -> int:
    return api.emulator.audit_by_token[("client-test", "get", "apireleases")]


async def test_a_429_is_retried_once_its_retry_after_has_passed(api):
    await api.apply(release_manifest())
    api.emulator.inject_fault(429, action="FETCH", plural="apireleases", retry_after=1)
    kube = await client(api)
    try:
        started = time.monotonic()
        release = await kube.get(RELEASES, "ApiRelease", NAMESPACE, "claims-api")
        waited = time.monotonic() - started
    finally:
        await kube.close()

    assert release is not None
    assert release["metadata"]["name"] == "claims-api"
    assert reads(api) == 2  # refused once, then answered
    assert 1.0 <= waited < 2.0  # not at once, and not longer than asked


async def test_server_errors_are_retried_with_backoff_then_given_to_the_caller(api):
    await api.apply(release_manifest())
    api.emulator.inject_fault(503, action="FETCH", plural="apireleases", times=2)
    kube = await client(api, max_retries=2)
    try:
        assert await kube.get(RELEASES, "ApiRelease", NAMESPACE, "claims-api") is not None
        assert kube.retries == 2

        api.emulator.inject_fault(500, action="FETCH", plural="apireleases", times=3)
        with pytest.raises(TransientApiError, match="HTTP 500"):
            await kube.get(RELEASES, "ApiRelease", NAMESPACE, "claims-api")
    finally:
        await kube.close()

    assert reads(api) == 3 + 3


async def test_the_client_never_exceeds_its_rate_limit(api):
    await api.apply(release_manifest())
    kube = await client(api, qps=10, burst=2)
    try:
        started = time.monotonic()
        for _ in range(12):
            await kube.get(RELEASES, "ApiRelease", NAMESPACE, "claims-api")
        elapsed = time.monotonic() - started
    finally:
        await kube.close()

    assert elapsed >= 0.95  # 2 at once, then 10 spaced by 0.1 s


async def test_a_fenced_client_refuses_writes_but_still_reads(api):
    await api.apply(release_manifest())
    kube = await client(api, may_write=lambda: False)
    try:
        assert await kube.get(RELEASES, "ApiRelease", NAMESPACE, "claims-api") is not None
        with pytest.raises(TransientApiError, match="not the leader"):
            await kube.patch(
                RELEASES, "ApiRelease", NAMESPACE, "claims-api", {"metadata": {"labels": {"a": "b"}}}
            )
    finally:
        await kube.close()

    assert api.emulator.audit_by_token[("client-test", "patch", "apireleases")] == 0
