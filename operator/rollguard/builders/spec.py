"""The ApiRelease and LoadTest specs with the CRD defaults filled in.

The API server applies the CRD defaults at admission, but objects written
before a default existed (or served by a test API) may lack them; every reader
goes through these functions so that one table of defaults is the truth.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from typing import Any

GROUP = "rollguard.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"

RELEASE_LABEL = "rollguard.dev/release"
REVISION_LABEL = "rollguard.dev/revision"
ROLE_LABEL = "rollguard.dev/role"
LOADTEST_LABEL = "rollguard.dev/loadtest"
APPROVE_CONTRACT_ANNOTATION = "rollguard.dev/approve-contract"
RETRY_ANNOTATION = "rollguard.dev/retry"

RELEASE_DEFAULTS: dict[str, Any] = {
    "replicas": 2,
    "autoscaling": False,
    "strategy": {"maxSurge": 1, "progressDeadlineSeconds": 120},
    "migrations": {
        "enabled": True,
        "command": ["python", "manage.py", "migrate_phase"],
        "lint": True,
        "activeDeadlineSeconds": 600,
        "contractPolicy": "AfterVerification",
    },
    "health": {
        "readyTimeoutSeconds": 120,
        "maxRestarts": 2,
        "verify": {"path": "/health/ready", "timeoutSeconds": 60, "retries": 5},
    },
    "loadTest": {
        "enabled": False,
        "users": 5,
        "spawnRate": 5,
        "runTimeSeconds": 30,
        "workers": 0,
        "activeDeadlineSeconds": 300,
        "thresholds": {"p95Ms": 500, "errorRatePercent": 5},
        "onFailure": "Rollback",
        "historyLimit": 3,
    },
    "rollback": {"automatic": True},
    "paused": False,
}

LOADTEST_DEFAULTS: dict[str, Any] = {
    "users": 5,
    "spawnRate": 5,
    "runTimeSeconds": 30,
    "workers": 0,
    "activeDeadlineSeconds": 300,
    "env": [],
}

# A finished Job stays long enough for `kubectl logs`, then the cluster removes it.
JOB_TTL_SECONDS = 3600


def _merged(defaults: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(dict(defaults))
    for key, value in given.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = _merged(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def release_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The ApiRelease spec with every default present."""
    return _merged(RELEASE_DEFAULTS, spec)


def loadtest_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The LoadTest spec with every default present."""
    merged = _merged(LOADTEST_DEFAULTS, spec)
    if "service" in merged.get("target", {}):
        merged["target"].setdefault("port", 80)
    if "locustfile" in merged:
        merged["locustfile"].setdefault("key", "locustfile.py")
    if "tokenSecretRef" in merged:
        merged["tokenSecretRef"].setdefault("key", "tokens")
    return merged


def revision_of(template: Mapping[str, Any]) -> str:
    """A short, stable hash of a pod template: equal templates, equal revisions."""
    canonical = json.dumps(template, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:10]


def api_container(template: Mapping[str, Any], container_name: str | None) -> dict[str, Any] | None:
    """The API container of a pod template, or None when the named one is missing."""
    containers = template.get("spec", {}).get("containers", [])
    if not containers:
        return None
    if container_name is None:
        return dict(containers[0])
    for container in containers:
        if container.get("name") == container_name:
            return dict(container)
    return None


def image_of(template: Mapping[str, Any], container_name: str | None) -> str:
    container = api_container(template, container_name)
    return str(container.get("image", "")) if container else ""
