"""values.schema.json turns wrong values into a clear helm error before anything renders."""

from __future__ import annotations

import pytest
from chart_render import CHARTS, REPO, helm

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("chart", "settings", "expected"),
    [
        ("claims-api", ["--set-string", "replicas=two"], ["replicas", "got string, want integer"]),
        ("claims-api", ["--set", "replicass=3"], ["additional properties 'replicass' not allowed"]),
        ("claims-api", ["--set", "image.repository=null"], ["/image", "missing property 'repository'"]),
        ("claims-api", ["--set", "image.repository="], ["/image/repository", "minLength"]),
        ("claims-api", ["--set", "image.tga=1.0"], ["/image", "additional properties 'tga' not allowed"]),
        (
            "claims-api",
            ["--set", "migrations.contractPolicy=Sometimes"],
            ["contractPolicy", "must be one of"],
        ),
        (
            "claims-api",
            ["--set", "loadTest.thresholds.p95Ms=0"],
            ["/loadTest/thresholds/p95Ms", "exclusiveMinimum"],
        ),
        (
            "claims-api",
            ["--set", "config.extraEnv.DATABASE_URL=postgres://x"],
            ["invalid propertyName 'DATABASE_URL'"],
        ),
        ("claims-api", ["--set", "secrets.databaseUrl.name="], ["/secrets/databaseUrl/name", "minLength"]),
        ("claims-api", ["--set", "ingress.enabled=true"], ["ingress.hosts needs at least one host name"]),
        ("claims-api", ["--set", "metrics.port=8000"], ["metrics.port is 8000, the API's own port"]),
        (
            "claims-api",
            ["--set", "metrics.monitoringNamespaceSelector=null"],
            ["metrics.monitoringNamespaceSelector is empty"],
        ),
        (
            "claims-api",
            ["--set", "metrics.serviceMonitor.interval=30sec"],
            ["/metrics/serviceMonitor/interval", "does not match pattern"],
        ),
        ("rollguard", ["--set-string", "metrics.port=ninety"], ["metrics/port", "got string, want integer"]),
        (
            "rollguard",
            ["--set", "rbac.clusterwide=true"],
            ["additional properties 'clusterwide' not allowed"],
        ),
        ("rollguard", ["--set", "image.repository=null"], ["/image", "missing property 'repository'"]),
        (
            "rollguard",
            ["--set", "watchNamespaces[0]=Not_A_Namespace"],
            ["watchNamespaces/0", "does not match pattern"],
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_wrong_values_are_rejected_with_a_clear_message(helm_bin, chart, settings, expected):
    result = helm(helm_bin, "template", "x", str(CHARTS / chart), *settings)

    assert result.returncode != 0, f"helm accepted {settings}"
    for fragment in expected:
        assert fragment in result.stderr, result.stderr


def test_the_sandbox_values_are_accepted(helm_bin):
    sandbox_values = REPO / "operator" / "rollguard_sandbox" / "values.yaml"
    result = helm(
        helm_bin, "template", "claims-api", str(CHARTS / "claims-api"), "--values", str(sandbox_values)
    )

    assert result.returncode == 0, result.stderr
