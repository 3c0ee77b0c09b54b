"""`helm lint --strict` passes for every chart and value profile."""

from __future__ import annotations

import pytest
from chart_render import PROFILES, helm, values_args

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("profile", PROFILES, ids=lambda profile: profile.id)
def test_helm_lint_strict_is_clean(helm_bin, profile, tmp_path):
    result = helm(
        helm_bin, "lint", "--strict", str(profile.chart_dir), "--namespace", profile.namespace,
        *values_args(profile, tmp_path),
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr
    assert "[WARNING]" not in result.stdout
    assert "[ERROR]" not in result.stdout
