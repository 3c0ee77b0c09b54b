"""The bounded history of a release's verification LoadTests: which old ones to delete."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rollguard.planner.loadtest import FINISHED
from rollguard.planner.model import Action


def loadtests_to_prune(
    loadtests: Sequence[Mapping[str, Any]], *, keep: int, current: str | None
) -> list[Action]:
    """Deletes for the oldest finished LoadTests beyond `keep` per release (`historyLimit`).
    The current revision's LoadTest and any unfinished one are never deleted; they count
    against the limit first, then the newest finished ones fill it."""

    def created(test: Mapping[str, Any]) -> tuple[str, str]:
        meta = test.get("metadata") or {}
        return str(meta.get("creationTimestamp") or ""), str(meta.get("resourceVersion") or "").zfill(20)

    kept = [
        test
        for test in loadtests
        if test["metadata"]["name"] == current
        or (test.get("status") or {}).get("phase") not in FINISHED
        or (test.get("status") or {}).get("observedGeneration") != test["metadata"].get("generation")
    ]
    kept_names = {test["metadata"]["name"] for test in kept}
    finished = sorted(
        (test for test in loadtests if test["metadata"]["name"] not in kept_names), key=created, reverse=True
    )
    room = max(0, keep - len(kept))
    return [
        Action(
            verb="delete",
            api_version=str(test.get("apiVersion") or "rollguard.dev/v1alpha1"),
            kind="LoadTest",
            namespace=str(test["metadata"].get("namespace") or "default"),
            name=test["metadata"]["name"],
            body=None,
        )
        for test in finished[room:]
    ]
