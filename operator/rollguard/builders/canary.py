"""The canary's own objects: a Deployment beside the stable one, and a Service for its pods only.

Without a mesh the canary's weight is a share of the replicas: the canary pods carry the same
labels as the stable ones (so the release's Service sends them their share of the traffic) plus
the track label, by which the canary Deployment and the canary Service select them alone."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from rollguard.builders.common import child_metadata, fit_name, release_labels
from rollguard.builders.deployment import build_deployment
from rollguard.builders.loadtest import build_verification_loadtest
from rollguard.builders.spec import RELEASE_LABEL, TRACK_LABEL, api_container, release_spec, revision_of

CANARY = "canary"


def canary_name(release_name: str) -> str:
    return fit_name(f"{release_name}-canary")


def canary_service_name(release: Mapping[str, Any]) -> str:
    canary = release_spec(release.get("spec") or {})["strategy"].get("canary") or {}
    return str(canary.get("canaryService") or canary_name(release["metadata"]["name"]))


def canary_selector(release_name: str) -> dict[str, str]:
    return {RELEASE_LABEL: release_name, TRACK_LABEL: CANARY}


def build_canary_deployment(release: Mapping[str, Any], replicas: int) -> dict[str, Any]:
    """The canary Deployment: the spec's template, `replicas` pods, selected by the track label."""
    name = release["metadata"]["name"]
    deployment = build_deployment(release)
    deployment["metadata"] = child_metadata(
        release, canary_name(name), {**release_labels(name), TRACK_LABEL: CANARY}
    )
    deployment["spec"]["replicas"] = replicas
    deployment["spec"]["selector"] = {"matchLabels": canary_selector(name)}
    deployment["spec"]["template"]["metadata"]["labels"][TRACK_LABEL] = CANARY
    return deployment


def _target_port(release: Mapping[str, Any]) -> int | str:
    """The API container's first port, else the Service's own port."""
    spec = release_spec(release.get("spec") or {})
    container = api_container(spec["template"], spec.get("containerName")) or {}
    ports = container.get("ports") or []
    if ports and "containerPort" in ports[0]:
        return int(ports[0]["containerPort"])
    return int(spec["service"].get("port", 80))


def build_canary_service(release: Mapping[str, Any]) -> dict[str, Any]:
    """A Service that sends to the canary pods only: what a canary analysis's load test aims at."""
    name = release["metadata"]["name"]
    spec = release_spec(release.get("spec") or {})
    labels = {**release_labels(name), TRACK_LABEL: CANARY}
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": child_metadata(release, canary_service_name(release), labels),
        "spec": {
            "selector": canary_selector(name),
            "ports": [
                {
                    "name": "http",
                    "port": int(spec["service"].get("port", 80)),
                    "targetPort": _target_port(release),
                }
            ],
        },
    }


def analysis_loadtest_name(release_name: str, revision: str, step: int, metric: str, taken: int) -> str:
    return fit_name(f"{release_name}-{metric}-{revision}-s{step}-{taken}")


def build_analysis_loadtest(
    release: Mapping[str, Any], *, step: int, metric: str, taken: int
) -> dict[str, Any]:
    """The LoadTest of one `loadTest` measurement, aimed at the canary Service."""
    spec = release_spec(release.get("spec") or {})
    name = analysis_loadtest_name(
        release["metadata"]["name"], revision_of(spec["template"]), step, metric, taken
    )
    return copy.deepcopy(
        build_verification_loadtest(release, name=name, service=canary_service_name(release))
    )
