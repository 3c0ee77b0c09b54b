"""checkov finds nothing in any rendered profile beyond the documented allow-list."""

from __future__ import annotations

import pytest
from chart_render import CHARTS, PROFILES
from scan_report import load_allowlist, run_checkov, unexplained, unused

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def scan(checkov_bin, rendered_dir):
    # One run over every profile: checkov's start-up costs more than the scan.
    return run_checkov(checkov_bin, rendered_dir)


@pytest.fixture(scope="session")
def allowlist():
    return load_allowlist(CHARTS / "checkov-allowlist.yaml")


def test_checkov_scanned_every_profile(scan):
    assert set(scan.counts) == {f"{profile.id}.yaml" for profile in PROFILES}
    assert all(counts["passed"] > 100 for counts in scan.counts.values()), scan.counts


@pytest.mark.parametrize("profile", PROFILES, ids=lambda profile: profile.id)
def test_checkov_fails_only_allow_listed_checks(scan, allowlist, profile):
    findings = [finding for finding in scan.findings if finding.file == f"{profile.id}.yaml"]

    assert unexplained(findings, allowlist) == []


def test_every_allow_list_entry_is_still_needed(scan, allowlist):
    assert unused(allowlist, scan.findings) == []


def test_a_digest_clears_the_digest_finding(scan):
    pinned = [
        f
        for f in scan.findings
        if f.check_id == "CKV_K8S_43" and f.file == "claims-api-plain-autoscaled.yaml"
    ]

    assert [f.resource for f in pinned if f.resource.startswith("Deployment.")] == []
