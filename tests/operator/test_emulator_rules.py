"""The API-server rules the emulator enforces for the operator: RBAC, owner-reference permissions,
object validation, and the taps that place a crash between two writes."""

from __future__ import annotations

import asyncio

import kmock
import pytest
from operator_harness import CRD_DIR

from rollguard_emulator import RollguardEmulator, load_crds
from rollguard_emulator.validation import problems

pytestmark = pytest.mark.integration

NS = "/api/v1/namespaces/ns"
DEPLOYMENTS = "/apis/apps/v1/namespaces/ns/deployments"
TOKEN = {"Authorization": "Bearer operator-token"}
RULES = [
    {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]},
    {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["create", "list"]},
]
OWNER = {
    "apiVersion": "rollguard.dev/v1alpha1",
    "kind": "ApiRelease",
    "name": "api",
    "uid": "u1",
    "controller": True,
    "blockOwnerDeletion": True,
}


@pytest.fixture
async def server():
    emulator = RollguardEmulator()
    emulator.register_crds(load_crds(CRD_DIR))
    async with emulator, kmock.Server(emulator) as srv:
        yield emulator, srv.client


def job(name: str = "api-lint-1", owners: list | None = None) -> dict:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "ownerReferences": owners or []},
        "spec": {
            "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "m", "image": "i"}]}}
        },
    }


def deployment(labels: dict, selector: dict, **container) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "api"},
        "spec": {
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "api", "image": "i", **container}]},
            },
        },
    }


async def test_a_bound_token_gets_403_for_everything_its_role_does_not_grant(server):
    emulator, client = server
    emulator.enforce_rbac("operator-token", RULES, namespace="ns")

    granted = await client.get(f"{NS}/configmaps/absent", headers=TOKEN)
    listed_elsewhere = await client.get("/apis/batch/v1/namespaces/other/jobs", headers=TOKEN)
    not_granted = await client.get(f"{NS}/secrets", headers=TOKEN)
    anonymous = await client.get(f"{NS}/secrets")

    assert granted.status == 404
    assert listed_elsewhere.status == 403
    assert not_granted.status == 403
    assert "cannot list resource" in await not_granted.text()
    assert anonymous.status == 200


async def test_block_owner_deletion_needs_update_on_the_owners_finalizers(server):
    emulator, client = server
    emulator.enforce_rbac("operator-token", RULES, namespace="ns")

    refused = await client.post("/apis/batch/v1/namespaces/ns/jobs", json=job(owners=[OWNER]), headers=TOKEN)
    unblocked = {**OWNER, "blockOwnerDeletion": False}
    allowed = await client.post(
        "/apis/batch/v1/namespaces/ns/jobs", json=job("b", [unblocked]), headers=TOKEN
    )
    emulator.enforce_rbac(
        "operator-token",
        [
            *RULES,
            {"apiGroups": ["rollguard.dev"], "resources": ["apireleases/finalizers"], "verbs": ["update"]},
        ],
        namespace="ns",
    )
    granted = await client.post("/apis/batch/v1/namespaces/ns/jobs", json=job("c", [OWNER]), headers=TOKEN)

    assert refused.status == 403
    assert "cannot set blockOwnerDeletion" in await refused.text()
    assert allowed.status == 201 or allowed.status == 200
    assert granted.status < 300


@pytest.mark.parametrize(
    ("plural", "name", "fits"),
    [
        ("services", "a" * 63, True),
        ("services", "a" * 64, False),
        ("services", "1-starts-with-a-digit", False),
        ("jobs", "j" * 63, True),
        ("jobs", "j" * 64, False),
        ("deployments", "d" * 64, True),
        ("deployments", "Upper", False),
    ],
)
def test_names_are_held_to_the_limits_of_their_kind(plural, name, fits):
    assert (problems(plural, {"metadata": {"name": name}}) == []) == fits


async def test_invalid_objects_are_refused_with_422_and_the_field_at_fault(server):
    _, client = server
    labels = {"app": "api"}

    bad_port = await client.post(
        DEPLOYMENTS, json=deployment(labels, labels, ports=[{"containerPort": "8000"}])
    )
    bad_quantity = await client.post(
        DEPLOYMENTS, json=deployment(labels, labels, resources={"requests": {"cpu": "lots"}})
    )
    long_label = await client.post(DEPLOYMENTS, json=deployment({"app": "x" * 64}, {"app": "x" * 64}))
    mismatch = await client.post(DEPLOYMENTS, json=deployment(labels, {"app": "other"}))

    assert bad_port.status == 422
    assert "containerPort" in await bad_port.text()
    assert bad_quantity.status == 422
    assert "requests[cpu]" in await bad_quantity.text()
    assert long_label.status == 422
    assert mismatch.status == 422


async def test_a_deployment_selector_cannot_change(server):
    _, client = server
    labels = {"app": "api", "tier": "web"}
    assert (await client.post(DEPLOYMENTS, json=deployment(labels, {"app": "api"}))).status < 300

    response = await client.patch(
        f"{DEPLOYMENTS}/api",
        json={"spec": {"selector": {"matchLabels": labels}}},
        headers={"Content-Type": "application/merge-patch+json"},
    )

    assert response.status == 422
    assert "field is immutable" in await response.text()


async def test_a_held_write_is_stored_before_its_answer_comes_back(server):
    emulator, client = server
    labels = {"app": "api"}
    tap = emulator.tap(action="CREATE", plural="deployments", hold=True)

    request = asyncio.ensure_future(client.post(DEPLOYMENTS, json=deployment(labels, labels)))
    await asyncio.wait_for(tap.reached.wait(), 5)

    assert emulator.read("apps/v1/deployments", "ns", "api") is not None
    assert not request.done()
    tap.release()
    assert (await asyncio.wait_for(request, 5)).status < 300
    assert tap.hits == 1


async def test_an_orphaning_delete_leaves_the_children(server):
    emulator, client = server
    labels = {"app": "api"}
    owner = (await (await client.post(DEPLOYMENTS, json=deployment(labels, labels))).json())["metadata"]
    ref = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "api",
        "uid": owner["uid"],
        "controller": True,
    }
    child = {"metadata": {"name": "api-pod", "ownerReferences": [ref]}, "spec": {"containers": []}}
    assert (await client.post(f"{NS}/pods", json=child)).status < 300

    await client.delete(f"{DEPLOYMENTS}/api", json={"propagationPolicy": "Orphan"})

    assert emulator.read("apps/v1/deployments", "ns", "api") is None
    assert emulator.read("v1/pods", "ns", "api-pod") is not None
