"""Metadata shared by every object a release owns."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from rollguard.builders.spec import API_VERSION, RELEASE_LABEL


def owner_reference(owner: Mapping[str, Any]) -> dict[str, Any]:
    """A controller owner reference, so that deleting the owner garbage-collects the child."""
    meta = owner["metadata"]
    return {
        "apiVersion": owner.get("apiVersion", API_VERSION),
        "kind": owner.get("kind", "ApiRelease"),
        "name": meta["name"],
        "uid": meta.get("uid", ""),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def release_labels(release_name: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": release_name,
        "app.kubernetes.io/managed-by": "rollguard",
        RELEASE_LABEL: release_name,
    }


def child_metadata(owner: Mapping[str, Any], name: str, labels: Mapping[str, str]) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": owner["metadata"].get("namespace"),
        "labels": dict(labels),
        "ownerReferences": [owner_reference(owner)],
    }


NAME_LIMIT = 63
_HASH = 8


def fit_name(name: str) -> str:
    """`name` if it fits 63 characters (a DNS label: Jobs, Services, label values), else its head
    and a hash of the whole, so that distinct long names stay distinct and stable."""
    if len(name) <= NAME_LIMIT:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:_HASH]
    return f"{name[: NAME_LIMIT - _HASH - 1].rstrip('-')}-{digest}"
