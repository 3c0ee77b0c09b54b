"""The Deployment an ApiRelease owns."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from rollguard.builders.common import child_metadata, release_labels
from rollguard.builders.spec import RELEASE_LABEL, REVISION_LABEL, ROLE_LABEL, release_spec, revision_of


def api_selector(release_name: str) -> dict[str, Any]:
    """The release's API pods only: its Locust and migration pods carry a role label and are left
    out, so an autoscaler reading the Deployment's selector never counts them."""
    return {
        "matchLabels": {RELEASE_LABEL: release_name},
        "matchExpressions": [{"key": ROLE_LABEL, "operator": "DoesNotExist"}],
    }


def pod_template(release_name: str, template: Mapping[str, Any]) -> dict[str, Any]:
    """The release's pod template labelled with its release and revision."""
    result = copy.deepcopy(dict(template))
    metadata = result.setdefault("metadata", {})
    labels = metadata.setdefault("labels", {})
    labels.update(release_labels(release_name))
    labels[REVISION_LABEL] = revision_of(template)
    return result


def build_deployment(release: Mapping[str, Any], template: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The Deployment for an ApiRelease, running `template` (default: the spec's template).

    `maxUnavailable: 0` keeps every old pod serving until a new one is Ready,
    which is what makes an automatic rollback invisible to clients.
    """
    name = release["metadata"]["name"]
    spec = release_spec(release.get("spec", {}))
    chosen = template if template is not None else spec["template"]
    strategy = spec["strategy"]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": child_metadata(release, name, release_labels(name)),
        "spec": {
            "replicas": spec["replicas"],
            "selector": api_selector(name),
            "progressDeadlineSeconds": strategy["progressDeadlineSeconds"],
            "revisionHistoryLimit": 3,
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": strategy["maxSurge"], "maxUnavailable": 0},
            },
            "template": pod_template(name, chosen),
        },
    }
