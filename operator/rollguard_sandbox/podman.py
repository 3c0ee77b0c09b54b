"""The podman commands the sandbox needs when its pods run as containers of the built images."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping

# The images `make images` builds; RUNTIME=containers runs pods from them.
DEFAULT_IMAGES = {
    "api": "localhost/rollguard/claims-api:dev",
    "loadtest": "localhost/rollguard/loadtest:dev",
}


def _podman(args: list[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    executable = shutil.which("podman")
    if executable is None:
        raise RuntimeError("pods as containers need podman: run `make images` (it installs it)")
    return subprocess.run(  # noqa: S603 - podman with arguments of this module
        [executable, *args], capture_output=True, text=True, env={**os.environ, **env}, check=False
    )


def image_ids(references: Mapping[str, str], env: Mapping[str, str]) -> dict[str, str]:
    """reference -> image id; a clear error when podman or an image is missing."""
    found: dict[str, str] = {}
    for reference in references.values():
        result = _podman(["image", "inspect", "--format", "{{.Id}}", reference], env)
        if result.returncode != 0:
            raise RuntimeError(f"image {reference} is not built: run `make images`")
        found[reference] = result.stdout.strip()
    return found


def remove_labelled(label: str, value: str, env: Mapping[str, str]) -> None:
    """Remove the containers of this run still there (a `podman run` killed before its container)."""
    ids = _podman(["ps", "--all", "--quiet", "--filter", f"label={label}={value}"], env).stdout.split()
    if ids:
        _podman(["rm", "--force", "--time", "2", *ids], env)
