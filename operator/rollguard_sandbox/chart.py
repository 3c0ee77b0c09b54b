"""The API chart rendered with the real `helm template`, and applied to the sandbox's API server."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from rollguard.kube import KubeClient

HOOK_ANNOTATION = "helm.sh/hook"


def render(
    helm: str,
    chart: Path,
    *,
    release: str,
    namespace: str,
    values_files: Sequence[Path] = (),
    values: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The chart's manifests, without Helm hooks (tests and waits that `helm upgrade` itself runs)."""
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", prefix="sandbox-values-") as extra:
        yaml.safe_dump(dict(values or {}), extra)
        extra.flush()
        command = [helm, "template", release, str(chart), "--namespace", namespace]
        for path in [*values_files, Path(extra.name)]:
            command += ["--values", str(path)]
        result = subprocess.run(command, check=False, capture_output=True, text=True)  # noqa: S603
    if result.returncode != 0:
        raise RuntimeError(f"helm template failed: {result.stderr.strip()}")
    return [
        doc
        for doc in yaml.safe_load_all(result.stdout)
        if doc and HOOK_ANNOTATION not in (doc.get("metadata", {}).get("annotations") or {})
    ]


async def apply(client: KubeClient, body: Mapping[str, Any]) -> dict[str, Any]:
    """Create the object, or replace the fields it sets (like `kubectl apply`, keys it drops go too)."""
    existing, created = await client.create(body)
    if created:
        return existing
    meta = body.get("metadata") or {}
    ops = [
        {"op": "add", "path": f"/{key}", "value": value}
        for key, value in body.items()
        if key not in {"metadata", "status", "apiVersion", "kind"}
    ]
    ops += [
        {"op": "add", "path": f"/metadata/{key}", "value": meta[key]}
        for key in ("labels", "annotations")
        if key in meta
    ]
    return await client.patch(body["apiVersion"], body["kind"], meta.get("namespace"), meta["name"], ops)


async def apply_all(client: KubeClient, manifests: Sequence[Mapping[str, Any]], namespace: str) -> list[str]:
    """Apply every manifest in order; return `Kind/name` of each, for the log."""
    applied = []
    for manifest in manifests:
        meta = {"namespace": namespace, **(manifest.get("metadata") or {})}
        await apply(client, {**manifest, "metadata": meta})
        applied.append(f"{manifest['kind']}/{manifest['metadata']['name']}")
    return applied


def find(manifests: Sequence[Mapping[str, Any]], kind: str) -> Mapping[str, Any]:
    matches = [manifest for manifest in manifests if manifest.get("kind") == kind]
    if len(matches) != 1:
        raise LookupError(f"expected one {kind} in the rendered chart, found {len(matches)}")
    return matches[0]
