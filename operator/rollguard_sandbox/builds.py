"""The story's named builds: the API's code as an earlier version had it, made once per run.

A build is a copy of service/ without some migration files, in the run's work
folder; the image tag of the release that names it runs from that copy (pods,
and the lint, expand and contract Jobs alike). Nothing of it is kept in the
repository.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rollguard_sandbox.chart import find
from rollguard_sandbox.story import Build, Step

_NOT_COPIED = ("__pycache__", "*.pyc")


def migration_file(label: str) -> Path:
    """`app.name` -> `app/migrations/name.py`, relative to the service folder."""
    app, _, name = label.partition(".")
    if not app or not name or "/" in label:
        raise ValueError(f"{label!r} is not a migration label (app.name, as `billing.0006_claim_rollup`)")
    return Path(app) / "migrations" / f"{name}.py"


def materialize(build: Build, service: Path, root: Path) -> Path:
    """The build's folder under `root`: a copy of `service` without the build's migrations (made once)."""
    target = root / build.name
    if target.exists():
        return target
    left_out = {(service / migration_file(label)).resolve() for label in build.without_migrations}
    if missing := sorted(str(path) for path in left_out if not path.is_file()):
        raise ValueError(f"build {build.name} leaves out migrations this checkout does not have: {missing}")

    def ignore(folder: str, names: list[str]) -> set[str]:
        skipped = set(shutil.ignore_patterns(*_NOT_COPIED)(folder, names))
        return skipped | {name for name in names if (Path(folder) / name).resolve() in left_out}

    shutil.copytree(service, target, ignore=ignore)
    return target


def prepare_builds(
    steps: Sequence[Step],
    builds: Mapping[str, Build],
    service: Path,
    root: Path,
    image_of: Callable[[Step], str],
) -> tuple[dict[str, Path], dict[str, Path]]:
    """(build name -> its folder, API image reference -> the folder it runs from) for the releases
    that name a build; `image_of` renders a release's API image reference."""
    folders: dict[str, Path] = {}
    images: dict[str, Path] = {}
    for step in steps:
        if step.build:
            folders[step.build] = materialize(builds[step.build], service, root)
            images[image_of(step)] = folders[step.build]
    return folders, images


def api_image(manifests: Sequence[Mapping[str, Any]]) -> str:
    """The image the rendered ApiRelease runs in its API container."""
    spec = find(manifests, "ApiRelease")["spec"]
    containers = spec["template"]["spec"]["containers"]
    name = spec.get("containerName")
    return str(next(c for c in containers if not name or c["name"] == name)["image"])
