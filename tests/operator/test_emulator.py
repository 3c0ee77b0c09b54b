"""The emulator's API-server semantics on their own, over HTTP."""

from __future__ import annotations

import asyncio
import json

import kmock
import pytest
from operator_harness import CRD_DIR

from rollguard_emulator import RollguardEmulator, load_crds
from rollguard_emulator.selectors import field_selector, label_selector

RELEASES = "/apis/rollguard.dev/v1alpha1/namespaces/ns/apireleases"
MERGE = {"Content-Type": "application/merge-patch+json"}


@pytest.fixture
async def server():
    emulator = RollguardEmulator()
    emulator.register_crds(load_crds(CRD_DIR))
    async with emulator, kmock.Server(emulator) as srv:
        yield emulator, srv.client


async def create(client, name: str = "a", labels: dict | None = None) -> dict:
    body = {
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {"replicas": 1},
        "status": {"phase": "X"},
    }
    response = await client.post(RELEASES, json=body)
    assert response.status < 300
    return await response.json()


async def patch(client, path: str, body) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json-patch+json"} if isinstance(body, list) else MERGE
    response = await client.patch(path, json=body, headers=headers)
    return response.status, await response.json()


pytestmark = pytest.mark.integration


async def test_creation_sets_identity_and_drops_status_for_a_status_subresource(server):
    _, client = server

    obj = await create(client)

    meta = obj["metadata"]
    assert meta["generation"] == 1
    assert meta["uid"]
    assert meta["creationTimestamp"].endswith("Z")
    assert int(meta["resourceVersion"]) > 0
    assert "status" not in obj


async def test_generation_moves_with_the_spec_only(server):
    _, client = server
    await create(client)

    _, after_status = await patch(client, f"{RELEASES}/a/status", {"status": {"phase": "Linting"}})
    _, after_labels = await patch(client, f"{RELEASES}/a", {"metadata": {"labels": {"x": "1"}}})
    _, after_spec = await patch(client, f"{RELEASES}/a", {"spec": {"replicas": 5}})

    assert [after_status["metadata"]["generation"], after_labels["metadata"]["generation"]] == [1, 1]
    assert after_spec["metadata"]["generation"] == 2
    versions = [int(o["metadata"]["resourceVersion"]) for o in (after_status, after_labels, after_spec)]
    assert versions == sorted(set(versions))


async def test_the_status_subresource_and_the_main_resource_do_not_write_each_other(server):
    _, client = server
    await create(client)

    _, via_status = await patch(
        client, f"{RELEASES}/a/status", {"status": {"phase": "Linting"}, "spec": {"replicas": 9}}
    )
    _, via_main = await patch(client, f"{RELEASES}/a", {"status": {"phase": "Hacked"}})

    assert via_status["spec"]["replicas"] == 1
    assert via_status["status"]["phase"] == "Linting"
    assert via_main["status"]["phase"] == "Linting"


async def test_a_stale_resource_version_is_a_conflict(server):
    _, client = server
    created = await create(client)
    stale = created["metadata"]["resourceVersion"]
    await patch(client, f"{RELEASES}/a", {"spec": {"replicas": 2}})

    merge_status, _ = await patch(
        client, f"{RELEASES}/a", {"metadata": {"resourceVersion": stale}, "spec": {"replicas": 3}}
    )
    json_status, _ = await patch(
        client, f"{RELEASES}/a", [{"op": "test", "path": "/metadata/resourceVersion", "value": stale}]
    )

    assert (merge_status, json_status) == (409, 422)


async def test_lists_filter_by_label_and_field_selectors(server):
    _, client = server
    await create(client, "a", {"tier": "api", "env": "prod"})
    await create(client, "b", {"tier": "api", "env": "dev"})
    await create(client, "c", {"tier": "db"})

    async def names(**params) -> list[str]:
        response = await client.get(RELEASES, params=params)
        return sorted(item["metadata"]["name"] for item in (await response.json())["items"])

    assert await names(labelSelector="tier=api") == ["a", "b"]
    assert await names(labelSelector="tier=api,env!=prod") == ["b"]
    assert await names(labelSelector="env in (prod,dev)") == ["a", "b"]
    assert await names(labelSelector="!env") == ["c"]
    assert await names(fieldSelector="metadata.name=c") == ["c"]


async def watch(client, **params) -> list[dict]:
    events = []
    async with client.get(RELEASES, params={"watch": "true", **params}) as response:
        async for line in response.content:
            if line.strip():
                events.append(json.loads(line))
    return events


async def test_a_watch_resumes_after_a_resource_version_and_honours_selectors(server):
    _, client = server
    first = await create(client, "a", {"tier": "api"})
    since = first["metadata"]["resourceVersion"]
    await create(client, "b", {"tier": "db"})
    await patch(client, f"{RELEASES}/a", {"spec": {"replicas": 4}})

    task = asyncio.create_task(
        watch(client, resourceVersion=since, labelSelector="tier=api", timeoutSeconds="1")
    )
    events = await task

    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("MODIFIED", "a")]


async def test_a_dropped_watch_ends_and_an_expired_version_is_gone(server):
    emulator, client = server
    first = await create(client)
    task = asyncio.create_task(watch(client, resourceVersion=first["metadata"]["resourceVersion"]))
    await asyncio.sleep(0.2)

    assert emulator.drop_watches() == 1
    assert await asyncio.wait_for(task, 2) == []

    await patch(client, f"{RELEASES}/a", {"spec": {"replicas": 2}})
    emulator.forget_events()
    (gone,) = await watch(client, resourceVersion=first["metadata"]["resourceVersion"])
    assert gone["type"] == "ERROR"
    assert gone["object"]["code"] == 410


async def test_initial_events_end_with_a_bookmark(server):
    _, client = server
    await create(client)

    events = await watch(client, sendInitialEvents="true", timeoutSeconds="0.5")

    assert [e["type"] for e in events] == ["ADDED", "BOOKMARK"]


async def test_finalizers_hold_a_deletion_and_owners_take_their_children(server):
    emulator, client = server
    owner = await create(client)
    child = {
        "metadata": {
            "name": "api",
            "ownerReferences": [{"uid": owner["metadata"]["uid"], "kind": "ApiRelease"}],
        },
        "spec": {"replicas": 1},
    }
    await client.post("/apis/apps/v1/namespaces/ns/deployments", json=child)
    await patch(client, f"{RELEASES}/a", {"metadata": {"finalizers": ["x"]}})

    await client.delete(f"{RELEASES}/a")
    held = emulator.read("rollguard.dev/v1alpha1/apireleases", "ns", "a")
    await patch(client, f"{RELEASES}/a", {"metadata": {"finalizers": None}})

    assert held["metadata"]["deletionTimestamp"]
    assert emulator.read("rollguard.dev/v1alpha1/apireleases", "ns", "a") is None
    assert emulator.read("apps/v1/deployments", "ns", "api") is None


async def test_injected_faults_answer_the_next_matching_requests(server):
    emulator, client = server
    fault = emulator.inject_fault(503, action="LIST", plural="apireleases", times=2)

    statuses = [(await client.get(RELEASES)).status for _ in range(3)]

    assert statuses == [503, 503, 200]
    assert fault.hits == 2


@pytest.mark.parametrize(
    ("selector", "labels", "matches"),
    [
        ("a=1", {"a": "1"}, True),
        ("a==1", {"a": "2"}, False),
        ("a!=1", {}, True),
        ("a", {"a": ""}, True),
        ("!a", {"a": "x"}, False),
        ("a in (1, 2),b", {"a": "2", "b": "z"}, True),
        ("a notin (1,2)", {"a": "1"}, False),
        ("", {"anything": "x"}, True),
    ],
)
def test_label_selectors(selector, labels, matches):
    assert label_selector(selector)({"metadata": {"labels": labels}}) is matches


def test_bad_selectors_are_rejected():
    with pytest.raises(ValueError, match="unparseable"):
        label_selector("a in 1,2")
    with pytest.raises(ValueError, match="unparseable"):
        field_selector("metadata.name")


def test_field_selectors_read_dotted_paths():
    obj = {"metadata": {"name": "x"}, "status": {"phase": "Running"}}

    assert field_selector("metadata.name=x,status.phase!=Failed")(obj)
    assert not field_selector("status.phase=Pending")(obj)
