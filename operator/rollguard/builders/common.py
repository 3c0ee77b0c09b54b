"""Metadata shared by every object a release owns."""

from __future__ import annotations

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
