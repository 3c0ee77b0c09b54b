"""Two operator replicas against the emulator: one leads through the Lease, the other waits.

Short lease flags keep the takeover quick; the rules are the same as with the defaults."""

from __future__ import annotations

import asyncio
import datetime
import time
from pathlib import Path

import aiohttp
import pytest
import yaml
from operator_harness import NAMESPACE, Api, OperatorProcess, release_manifest, wait_for, write_kubeconfig
from test_rbac import grants

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

LEASE_DURATION, RENEW_DEADLINE, RETRY_PERIOD = 2.0, 1.5, 0.25
FLAGS = (
    "--leader-election-lease-duration",
    str(LEASE_DURATION),
    "--leader-election-renew-deadline",
    str(RENEW_DEADLINE),
    "--leader-election-retry-period",
    str(RETRY_PERIOD),
)
READS = {"get", "list", "watch"}


def replica(api: Api, tmp_path: Path, cluster, name: str, *, leading: bool = True) -> OperatorProcess:
    """A replica with its own token, so that the emulator tells its requests apart."""
    kubeconfig = write_kubeconfig(api, tmp_path / f"kubeconfig-{name}")
    config = yaml.safe_load(kubeconfig.read_text())
    config["users"][0]["user"]["token"] = name
    kubeconfig.write_text(yaml.safe_dump(config))
    env = {
        "ROLLGUARD_POLL_SECONDS": "0.5",
        "ROLLGUARD_METRICS_PORT": "0",
        "ROLLGUARD_SERVICE_URL_TEMPLATE": f"http://127.0.0.1:{cluster.stub.port}",
    }
    return OperatorProcess(
        kubeconfig, tmp_path / f"{name}.log", env, identity=name, args=FLAGS, wait_until_leading=leading
    )


def writes(api: Api, token: str, *, leases: bool = False) -> int:
    return sum(
        count
        for (who, verb, resource), count in api.emulator.audit_by_token.items()
        if who == token and verb not in READS and (leases or resource != "leases")
    )


def holder(api: Api) -> str | None:
    lease = api.emulator.read("coordination.k8s.io/v1/leases", NAMESPACE, "rollguard-operator") or {}
    return (lease.get("spec") or {}).get("holderIdentity")


async def test_only_the_leader_writes_and_the_standby_finishes_after_it_is_killed(api, cluster, tmp_path):
    first = replica(api, tmp_path, cluster, "replica-a")
    second = replica(api, tmp_path, cluster, "replica-b", leading=False)
    await first.start()
    await second.start()
    try:
        assert holder(api) == "replica-a"
        await api.apply(release_manifest())
        await wait_for(lambda: api.phase() == "Expanding", 20)
        await asyncio.sleep(0.3)

        assert writes(api, "replica-a") > 0
        assert writes(api, "replica-b", leases=True) == 0  # the standby only reads the Lease

        killed = time.monotonic()
        await first.kill()
        await wait_for(lambda: holder(api) == "replica-b", LEASE_DURATION + 3, interval=0.02)
        takeover = time.monotonic() - killed
        await wait_for(lambda: writes(api, "replica-b") > 0, 2, interval=0.02)
        first_write = time.monotonic() - killed
        await wait_for(lambda: api.phase() == "Succeeded", 30)
    finally:
        await first.kill()
        await second.kill()

    # The standby waits one lease duration from the last renewal it saw, then acts in its first pass.
    assert LEASE_DURATION - RETRY_PERIOD <= takeover <= LEASE_DURATION + 2 * RETRY_PERIOD + 0.5
    assert first_write <= LEASE_DURATION + 2 * RETRY_PERIOD + 0.5 + 0.5  # + one pass
    jobs = {name: count for (plural, _, name), count in api.emulator.created.items() if plural == "jobs"}
    assert set(jobs) >= {
        f"claims-api-{phase}-{api.status()['currentRevision']}" for phase in ("lint", "expand")
    }
    assert all(count == 1 for count in jobs.values()), jobs
    lease_verbs = {
        (verb, "coordination.k8s.io", resource)
        for (_, verb, resource) in api.emulator.audit_by_token
        if resource == "leases"
    }
    assert lease_verbs <= grants("Role")


async def test_a_leader_that_cannot_renew_stops_before_its_lease_expires(api, cluster, tmp_path):
    leader = replica(api, tmp_path, cluster, "replica-a")
    await leader.start()
    try:
        await asyncio.sleep(2 * RETRY_PERIOD)
        api.emulator.inject_fault(500, action="UPDATE", plural="leases", times=10_000)
        await wait_for(lambda: not leader.running, RENEW_DEADLINE + 2, interval=0.02)
        stopped = datetime.datetime.now(tz=datetime.UTC)
        exit_code = leader.returncode
    finally:
        await leader.kill()

    lease = api.emulator.read("coordination.k8s.io/v1/leases", NAMESPACE, "rollguard-operator")
    assert lease is not None
    renewed = datetime.datetime.strptime(lease["spec"]["renewTime"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.UTC
    )
    assert exit_code == 1
    assert (stopped - renewed).total_seconds() < LEASE_DURATION  # gone before anyone may take over
    assert "leader election lost" in (tmp_path / "replica-a.log").read_text()


def renewed_at(api: Api) -> str:
    lease = api.emulator.read("coordination.k8s.io/v1/leases", NAMESPACE, "rollguard-operator") or {}
    return (lease.get("spec") or {}).get("renewTime") or ""


async def leading_liveness(process: OperatorProcess, seconds: float) -> float:
    """Seconds until `process` answers its liveness probe as the leader (kopf's, not the standby's)."""
    started = time.monotonic()
    async with aiohttp.ClientSession() as session:
        while time.monotonic() - started < seconds:
            try:
                async with session.get(f"http://127.0.0.1:{process.liveness_port}/healthz") as response:
                    if response.status == 200 and "standby" not in await response.text():
                        return time.monotonic() - started
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError(f"{process.identity} did not answer as the leader within {seconds}s")


async def test_a_probe_held_open_on_the_standby_costs_the_new_leader_neither_lease_nor_start(
    api, cluster, tmp_path
):
    first = replica(api, tmp_path, cluster, "replica-a")
    second = replica(api, tmp_path, cluster, "replica-b", leading=False)
    await first.start()
    await second.start()
    writer = None
    try:
        # A probe whose body never comes: the standby answers it, and the request stays open.
        reader, writer = await asyncio.open_connection("127.0.0.1", second.liveness_port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: probe\r\nContent-Length: 100\r\n\r\n")
        await writer.drain()
        assert b"standby" in await asyncio.wait_for(reader.readuntil(b"}"), 5)

        await first.kill()
        await wait_for(lambda: holder(api) == "replica-b", LEASE_DURATION + 3, interval=0.02)
        took_over = renewed_at(api)
        # Renewing starts with leading, while the standby's probe server shuts down.
        await wait_for(lambda: renewed_at(api) > took_over, RENEW_DEADLINE, interval=0.02)
        # And kopf takes the probe over at once, not after a graceful shutdown's wait.
        assert await leading_liveness(second, 3 * RENEW_DEADLINE) < 3 * RENEW_DEADLINE
        await asyncio.sleep(2 * RENEW_DEADLINE)
        assert second.running
        assert holder(api) == "replica-b"
    finally:
        if writer is not None:
            writer.close()
        await first.kill()
        await second.kill()
    assert "leader election lost" not in (tmp_path / "replica-b.log").read_text()
