"""The ApiRelease and LoadTest specs with the CRD defaults filled in.

The API server applies the CRD defaults at admission, but objects written
before a default existed (or served by a test API) may lack them; every reader
goes through these functions, which apply the CRD's own `default`s, so the CRD
is the one table of defaults.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from rollguard.builders.crds import spec_with_defaults

GROUP = "rollguard.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"

RELEASE_LABEL = "rollguard.dev/release"
REVISION_LABEL = "rollguard.dev/revision"
ROLE_LABEL = "rollguard.dev/role"
# Set on the canary's pods only: the canary Deployment and Service select by it.
TRACK_LABEL = "rollguard.dev/track"
LOADTEST_LABEL = "rollguard.dev/loadtest"
APPROVE_CONTRACT_ANNOTATION = "rollguard.dev/approve-contract"
RETRY_ANNOTATION = "rollguard.dev/retry"
# Manual control of a canary: `<revision>` promotes fully, `<revision>:<step>` skips that step.
PROMOTE_ANNOTATION = "rollguard.dev/promote"
ABORT_ANNOTATION = "rollguard.dev/abort"

# A finished Job stays long enough for `kubectl logs`, then the cluster removes it.
JOB_TTL_SECONDS = 3600


def release_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The ApiRelease spec with every default present."""
    return spec_with_defaults("ApiRelease", spec)


def loadtest_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The LoadTest spec with every default present."""
    return spec_with_defaults("LoadTest", spec)


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
