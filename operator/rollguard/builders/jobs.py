"""The migration Jobs of a release: lint, expand and contract."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Literal

from rollguard.builders.common import child_metadata, fit_name, release_labels
from rollguard.builders.spec import (
    JOB_TTL_SECONDS,
    REVISION_LABEL,
    ROLE_LABEL,
    api_container,
    release_spec,
    revision_of,
)

MigrationPhase = Literal["lint", "expand", "contract"]

# Pod-level fields the migration pod inherits so it runs with the API's identity and policy.
_POD_FIELDS = (
    "serviceAccountName",
    "securityContext",
    "imagePullSecrets",
    "volumes",
    "nodeSelector",
    "tolerations",
    "affinity",
    "priorityClassName",
)
_CONTAINER_FIELDS = (
    "image",
    "imagePullPolicy",
    "env",
    "envFrom",
    "securityContext",
    "resources",
    "volumeMounts",
)


def migration_job_name(release_name: str, phase: MigrationPhase, revision: str) -> str:
    return fit_name(f"{release_name}-{phase}-{revision}")


def build_migration_job(release: Mapping[str, Any], phase: MigrationPhase) -> dict[str, Any]:
    """A Job running `migrate_phase <phase> --json` with the API container's image and settings."""
    name = release["metadata"]["name"]
    spec = release_spec(release.get("spec", {}))
    template = spec["template"]
    revision = revision_of(template)
    source = api_container(template, spec.get("containerName"))
    if source is None:
        raise ValueError(
            f"ApiRelease {name}: the pod template has no container {spec.get('containerName')!r}"
        )
    container: dict[str, Any] = {"name": "migrate"}
    container.update({key: copy.deepcopy(source[key]) for key in _CONTAINER_FIELDS if key in source})
    container["command"] = [*spec["migrations"]["command"], phase, "--json"]
    container["terminationMessagePolicy"] = "FallbackToLogsOnError"
    pod_spec: dict[str, Any] = {
        key: copy.deepcopy(template["spec"][key]) for key in _POD_FIELDS if key in template["spec"]
    }
    pod_spec.update({"restartPolicy": "Never", "containers": [container]})
    labels = {**release_labels(name), REVISION_LABEL: revision, ROLE_LABEL: f"migrate-{phase}"}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": child_metadata(release, migration_job_name(name, phase, revision), labels),
        "spec": {
            # A migration is never retried blindly: a failure is a verdict the release records.
            "backoffLimit": 0,
            # A pod lost to a disruption (drain, preemption, eviction) is retried, not a verdict.
            "podFailurePolicy": {
                "rules": [
                    {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]}
                ]
            },
            "activeDeadlineSeconds": spec["migrations"]["activeDeadlineSeconds"],
            "ttlSecondsAfterFinished": JOB_TTL_SECONDS,
            "template": {"metadata": {"labels": labels}, "spec": pod_spec},
        },
    }
