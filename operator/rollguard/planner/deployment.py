"""The release's Deployment: create or patch it to run a revision, and judge its pods' health."""

from __future__ import annotations

from typing import Any

from rollguard.builders import build_deployment
from rollguard.planner.health import rollout_verdict
from rollguard.planner.objects import (
    deployment_revision,
    template_drifted,
)
from rollguard.planner.state import Outcome, ReleasePass, Rollback, Wait


def json_patch_deployment(desired: dict[str, Any], autoscaling: bool) -> list[dict[str, Any]]:
    """The fields the release owns; under autoscaling `replicas` belongs to the autoscaler.
    Every write of the template also resumes a Deployment a pause left paused."""
    spec = desired["spec"]
    owned = ("strategy", "progressDeadlineSeconds", "template")
    return [
        *(
            {"op": "add", "path": f"/spec/{key}", "value": spec[key]}
            for key in (owned if autoscaling else ("replicas", *owned))
        ),
        {"op": "add", "path": "/spec/paused", "value": False},
    ]


def ensure_deployment(p: ReleasePass, template: dict[str, Any] | None, revision: str) -> Outcome | None:
    """Create or patch the Deployment to run `revision`; None once it does.

    What the release set is compared as a subset of what the API server stores, so
    server-side defaults never look like drift and never cause a patch loop."""
    desired = build_deployment(p.release, template)
    deployment = p.snap.deployment
    if deployment is None:
        p.act("create", desired)
        return Wait(f"Deployment {p.name} created with revision {revision}", after=0.5)
    live = deployment.get("spec", {})
    if live.get("selector") != desired["spec"]["selector"]:
        # A selector is immutable: the Deployment is replaced, its ReplicaSets and pods orphaned so
        # they keep serving; the new Deployment adopts them (they match its selector) and rolls on.
        p.act("delete", desired, body={"propagationPolicy": "Orphan"})
        p.act("create", desired)
        return Wait(f"Deployment {p.name} replaced for its new selector; its pods kept serving", after=0.5)
    if (
        deployment_revision(deployment) != revision
        or template_drifted(desired["spec"]["template"], live.get("template") or {})
        or live.get("paused")
        or (not p.spec["autoscaling"] and live.get("replicas") != p.spec["replicas"])
    ):
        p.act("patch", desired, body=json_patch_deployment(desired, p.spec["autoscaling"]))
        return Wait(f"Deployment {p.name} updated to revision {revision}", after=0.5)
    return None


def crashing(p: ReleasePass) -> Rollback | None:
    """A crash loop after the rollout still counts while the release is being verified."""
    if p.snap.deployment is None:
        return None
    verdict = rollout_verdict(
        deployment=p.snap.deployment,
        pods=p.snap.pods,
        revision=p.revision,
        replicas=p.replicas,
        max_restarts=p.spec["health"]["maxRestarts"],
        ready_timeout_seconds=float("inf"),
        elapsed_seconds=0.0,
    )
    return Rollback(verdict.reason, verdict.message) if verdict.state == "failed" else None
