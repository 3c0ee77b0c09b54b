"""`rollguard promote|abort|retry|status <release>`: manual control of a release, by annotation.

Each request is one annotation on the ApiRelease; the operator acts on it, records an Event and
removes it once its status shows the request done. `status` reads the release once and prints
its canary steps (the current one marked), the last analysis and the revisions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import kopf

from rollguard.builders.spec import (
    ABORT_ANNOTATION,
    API_VERSION,
    PROMOTE_ANNOTATION,
    RETRY_ANNOTATION,
    release_spec,
)
from rollguard.kube import ApiError, KubeClient
from rollguard.planner.canary import describe
from rollguard.wait import Outcome, login, parse_reference

ACTIONS = ("promote", "abort", "retry", "status")


def release_name(value: str) -> str:
    """`claims-api` or `apirelease/claims-api`."""
    return parse_reference(value) if "/" in value else value


def request(action: str, release: Mapping[str, Any], *, full: bool = False) -> tuple[str, str] | str:
    """The annotation (key, value) that asks for `action`, or why it cannot be asked now."""
    status = release.get("status") or {}
    name = release["metadata"]["name"]
    phase = status.get("phase")
    revision = status.get("currentRevision")
    if not revision:
        return f"apirelease/{name} has no current revision yet"
    if action == "promote":
        if phase != "Canary":
            return f"apirelease/{name} is {phase}, not walking canary steps"
        if full:
            return PROMOTE_ANNOTATION, str(revision)
        return PROMOTE_ANNOTATION, f"{revision}:{status.get('currentStepIndex', 0)}"
    if action == "abort":
        if phase in ("Succeeded", "Blocked", "Failed", "RolledBack", "RollingBack"):
            return f"apirelease/{name} is {phase}: nothing in flight to abort"
        return ABORT_ANNOTATION, str(revision)
    failed = status.get("failedRevision")
    if not failed:
        return f"apirelease/{name} holds no failed revision to retry"
    return RETRY_ANNOTATION, str(failed)


def _mark(index: int, current: int | None, phase: str | None) -> str:
    if current is None or phase not in ("Canary", "RollingBack", "RolledBack", "Failed"):
        return " " if current is None or index >= current else "✔"
    if index < current:
        return "✔"
    return "▶" if index == current and phase == "Canary" else ("✖" if index == current else " ")


def render_status(release: Mapping[str, Any]) -> str:
    """What `rollguard status` prints (like `kubectl argo rollouts get rollout`)."""
    status = release.get("status") or {}
    spec = release_spec(release.get("spec") or {})
    lines = [
        f"Name:       {release['metadata']['name']}",
        f"Phase:      {status.get('phase', 'Pending')}"
        + (f" ({status['reason']})" if status.get("reason") else ""),
        f"Message:    {status.get('message', '')}",
        f"Strategy:   {'Canary' if spec['strategy'].get('canary') else 'RollingUpdate'}",
        f"Revisions:  current {status.get('currentRevision', '-')} ({status.get('currentImage', '-')}), "
        f"stable {status.get('stableRevision', '-')} ({status.get('stableImage', '-')})",
    ]
    steps: Sequence[Mapping[str, Any]] = (spec["strategy"].get("canary") or {}).get("steps") or []
    if steps:
        current = status.get("currentStepIndex")
        lines.append(f"Weight:     {status.get('canaryWeight', 0)}%")
        lines.append("Steps:")
        for index, step in enumerate(steps):
            lines.append(f"  {_mark(index, current, status.get('phase'))} {index}: {describe(step)}")
    analysis = status.get("analysis")
    if analysis:
        verdict = f"{analysis.get('phase')} {analysis.get('message', '')}"
        lines.append(f"Analysis:   step {analysis.get('stepIndex')}: {verdict}")
        for metric in analysis.get("metrics") or []:
            lines.append(f"  {metric.get('name')}: {metric.get('phase')} ({metric.get('taken', 0)} taken)")
            for measured in metric.get("measurements") or []:
                fields = ("finishedAt", "phase", "value", "message")
                lines.append("    " + " ".join(str(measured.get(key) or "") for key in fields).rstrip())
    for entry in status.get("history") or []:
        lines.append(
            f"History:    {entry.get('revision')} {entry.get('phase')} {entry.get('finishedAt', '')}"
        )
    return "\n".join(lines)


async def control(kube: KubeClient, action: str, namespace: str, name: str, *, full: bool = False) -> Outcome:
    release = await kube.get(API_VERSION, "ApiRelease", namespace, name)
    if release is None:
        return Outcome(1, f"apirelease/{name} not found in {namespace}")
    if action == "status":
        return Outcome(0, render_status(release))
    asked = request(action, release, full=full)
    if isinstance(asked, str):
        return Outcome(1, asked)
    key, value = asked
    await kube.patch(API_VERSION, "ApiRelease", namespace, name, {"metadata": {"annotations": {key: value}}})
    return Outcome(0, f"apirelease/{name}: {action} requested ({key}={value})")


async def run(action: str, reference: str, namespace: str | None, *, full: bool = False) -> Outcome:
    """Log in, ask, and close the connection."""
    name = release_name(reference)
    try:
        info = login()
    except kopf.LoginError as exc:
        return Outcome(1, f"apirelease/{name}: cannot log in: {exc}")
    kube = KubeClient(agent=f"rollguard-{action}")
    await kube.configure(info)
    try:
        return await control(kube, action, namespace or info.default_namespace or "default", name, full=full)
    except ApiError as exc:
        return Outcome(1, f"apirelease/{name}: {exc}")
    finally:
        await kube.close()
