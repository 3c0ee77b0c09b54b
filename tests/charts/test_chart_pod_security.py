"""Every pod the charts can start satisfies the restricted Pod Security Standard."""

from __future__ import annotations

import pytest
from chart_render import PROFILES, pod_specs, restricted_violations

from rollguard import builders

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("profile", PROFILES, ids=lambda profile: profile.id)
def test_every_rendered_pod_spec_is_restricted(rendered, profile):
    specs = [spec for doc in rendered[profile.id] for spec in pod_specs(doc)]

    assert specs, f"{profile.id} renders no pod"
    assert {where: restricted_violations(pod) for where, pod in specs if restricted_violations(pod)} == {}


@pytest.mark.parametrize(
    "profile", [p for p in PROFILES if p.chart == "claims-api"], ids=lambda profile: profile.id
)
def test_pods_built_by_the_operator_from_the_api_release_are_restricted(rendered, profile):
    built = []
    for release in (doc for doc in rendered[profile.id] if doc["kind"] == "ApiRelease"):
        built.append(builders.build_deployment(release))
        built += [builders.build_migration_job(release, phase) for phase in ("lint", "expand", "contract")]

    specs = [spec for doc in built for spec in pod_specs(doc)]
    assert {where: restricted_violations(pod) for where, pod in specs if restricted_violations(pod)} == {}


@pytest.mark.parametrize("profile", PROFILES, ids=lambda profile: profile.id)
def test_every_container_gets_a_writable_tmp(rendered, profile):
    for doc in rendered[profile.id]:
        for where, pod in pod_specs(doc):
            empty_dirs = {v["name"] for v in pod.get("volumes", []) if "emptyDir" in v}
            for container in pod["containers"]:
                if container["name"] in ("ready", "metrics"):
                    continue  # the test pods write nothing
                mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
                assert mounts.get("/tmp") in empty_dirs, f"{where}: {container['name']} has no emptyDir /tmp"
