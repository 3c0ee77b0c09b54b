"""Least privilege: the Role grants exactly what the operator was seen doing, and nothing broad."""

from __future__ import annotations

import pytest
import yaml
from operator_harness import ROOT, release_manifest, wait_for, with_loadtest

RBAC = ROOT / "manifests" / "rbac"


def rules(kind: str) -> list[dict]:
    for path in RBAC.glob("*.yaml"):
        for document in yaml.safe_load_all(path.read_text()):
            if document and document["kind"] == kind:
                return document["rules"]
    raise AssertionError(f"no {kind} in {RBAC}")


def grants(kind: str) -> set[tuple[str, str, str]]:
    return {
        (verb, group, resource)
        for rule in rules(kind)
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def test_the_role_has_no_wildcards_and_no_secrets():
    for verb, group, resource in grants("Role"):
        assert "*" not in (verb, group, resource)
        assert resource != "secrets"


def test_the_cluster_role_grants_the_same_as_the_role():
    assert grants("ClusterRole") == grants("Role")


@pytest.mark.integration
@pytest.mark.timeout(90)
async def test_the_role_covers_exactly_what_the_operator_does(api, operator, cluster):
    await api.apply(with_loadtest(release_manifest()))
    await wait_for(lambda: api.phase() == "Succeeded")
    await wait_for(lambda: "Succeeded" in {reason for _, reason in api.events()})

    used = {
        (verb, group, resource)
        for (agent, verb, group, resource), _ in api.emulator.audit.items()
        if agent in ("kopf", "rollguard")
    }

    assert used - grants("Role") == set()
    # The rest are grants this first release does not need: reads of single objects, the patch of an
    # existing Deployment (a second release), the locustfile ConfigMap and the workers' Service.
    rarely_used = {
        # Never called: OwnerReferencesPermissionEnforcement checks it when a child has blockOwnerDeletion.
        ("update", "rollguard.dev", "apireleases/finalizers"),
        ("update", "rollguard.dev", "loadtests/finalizers"),
        # Replacing a Deployment whose selector has to change (its pods orphaned, kept serving).
        ("delete", "apps", "deployments"),
        ("get", "", "configmaps"),
        ("get", "", "pods"),
        ("get", "", "services"),
        ("list", "", "services"),
        ("create", "", "services"),
        ("get", "apps", "deployments"),
        ("patch", "apps", "deployments"),
        ("get", "batch", "jobs"),
        ("get", "rollguard.dev", "apireleases"),
        ("get", "rollguard.dev", "loadtests"),
        ("patch", "rollguard.dev", "loadtests"),
        ("get", "rollguard.dev", "apireleases/status"),
        ("get", "rollguard.dev", "loadtests/status"),
        # Deleting LoadTests beyond spec.loadTest.historyLimit (a fourth release).
        ("delete", "rollguard.dev", "loadtests"),
        # The Lease: this operator runs in-process without leader election; the two-replica test
        # (test_leader_election.py) checks these verbs against the Role.
        ("get", "coordination.k8s.io", "leases"),
        ("create", "coordination.k8s.io", "leases"),
        ("patch", "coordination.k8s.io", "leases"),
    }
    assert grants("Role") - used <= rarely_used


def test_the_chart_renders_the_rules_of_manifests_rbac():
    copied = yaml.safe_load((ROOT / "charts" / "rollguard" / "files" / "operator-role.yaml").read_text())

    assert copied == yaml.safe_load((RBAC / "role.yaml").read_text()), "run `make sync-rbac`"
