"""Fixtures for the chart tests: the pinned tools and each profile rendered once."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from chart_render import CHARTS, PROFILES, REPO, documents, find_tool, render

# The scan and README logic lives beside the charts, for `make charts-scan` and `make charts-docs`.
sys.path.insert(0, str(CHARTS))


@pytest.fixture(scope="session")
def helm_bin() -> Path:
    found = find_tool("helm")
    if found is None:
        pytest.fail("helm is not installed: run `make helm` (it installs the pinned helm into .tools/bin)")
    return found


@pytest.fixture(scope="session")
def checkov_bin() -> Path:
    found = REPO / ".tools" / "checkov" / "bin" / "checkov"
    if not found.exists():
        pytest.fail("checkov is not installed: run `make checkov` (it installs into .tools/checkov)")
    return found


@pytest.fixture(scope="session")
def rendered_dir(helm_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every profile rendered once, one YAML file each, named after the profile."""
    out = tmp_path_factory.mktemp("rendered")
    values = tmp_path_factory.mktemp("values")
    for profile in PROFILES:
        (out / f"{profile.id}.yaml").write_text(render(helm_bin, profile, values))
    return out


@pytest.fixture(scope="session")
def rendered(rendered_dir: Path) -> dict[str, list[dict[str, Any]]]:
    return {profile.id: documents((rendered_dir / f"{profile.id}.yaml").read_text()) for profile in PROFILES}
