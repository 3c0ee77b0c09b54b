"""The chart README's PromQL, evaluated by Prometheus' own engine (`promtool test rules`) on
series named and labelled as the API exports them: a canary with a quarter of its requests
failing and a slower tail beside a healthy stable revision."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml
from chart_render import CHARTS

from config.metrics.instruments import BUCKETS, REQUEST_DURATION, REQUESTS_TOTAL

pytestmark = pytest.mark.integration

README = CHARTS / "claims-api" / "README.md"


def readme_queries() -> list[str]:
    section = README.read_text().split("## Metrics", 1)[1].split("\n## ", 1)[0]
    return [" ".join(block.split()) for block in re.findall(r"```promql\n(.*?)```", section, re.DOTALL)]


def series(name: str, per_minute: int, **labels: str) -> dict[str, str]:
    labels = {"namespace": "billing", "method": "GET", **labels}
    text = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    return {"series": f"{name}{{{text}}}", "values": f"0+{per_minute}x20"}


def histogram(revision: str, per_bucket: dict[float, int]) -> list[dict[str, str]]:
    """Cumulative buckets, as the API's histogram has them, from requests per minute in each bucket."""
    bounds = [*(str(bound) for bound in BUCKETS), "+Inf"]
    cumulative = [sum(n for bound, n in per_bucket.items() if bound <= limit) for limit in BUCKETS]
    cumulative.append(sum(per_bucket.values()))
    labels = {"view": "claim-list", "status": "200", "revision": revision}
    return [
        series(f"{REQUEST_DURATION}_bucket", total, le=bound, **labels)
        for bound, total in zip(bounds, cumulative, strict=True)
    ]


INPUT = [
    series(REQUESTS_TOTAL, 80, view="claim-list", status="200", revision="stable"),
    series(REQUESTS_TOTAL, 60, view="claim-list", status="200", revision="canary"),
    series(REQUESTS_TOTAL, 20, view="claim-detail", status="500", revision="canary"),
    # Readiness answering 503 is the probe's job, not an error of the API.
    series(REQUESTS_TOTAL, 1000, view="health-ready", status="503", revision="stable"),
    # All 80 within 0.05 s: the 95th percentile interpolates to 0.04875 s.
    *histogram("stable", {0.05: 80}),
    # Of the canary's, 72 of 80 within 0.25 s, 8 between 0.25 and 0.5: the 95th percentile is halfway, 0.375.
    *histogram("canary", {0.1: 40, 0.25: 32, 0.5: 8}),
]


@pytest.fixture(scope="module")
def promtool():
    found = shutil.which("promtool")
    if found is None:
        pytest.skip("promtool is missing: Debian's prometheus package carries it")
    return found


def test_the_readme_shows_the_error_rate_and_the_p95_by_revision():
    queries = readme_queries()
    assert len(queries) == 2
    assert all(REQUESTS_TOTAL in q or REQUEST_DURATION in q for q in queries)
    assert all("by (revision)" in q or "by (le, revision)" in q for q in queries)


def test_the_queries_give_each_revisions_error_rate_and_p95(promtool, tmp_path):
    error_rate, p95 = readme_queries()
    # Per mille, rounded: Prometheus' floats compared as integers.
    cases = [
        (error_rate, {"stable": 0, "canary": 250}),
        (p95, {"stable": 49, "canary": 375}),
    ]
    tests = {
        "rule_files": [],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": INPUT,
                "promql_expr_test": [
                    {
                        "expr": f"round(({query}) * 1000)",
                        "eval_time": "15m",
                        "exp_samples": [
                            {"labels": f'{{revision="{revision}"}}', "value": value}
                            for revision, value in expected.items()
                        ],
                    }
                    for query, expected in cases
                ],
            }
        ],
    }
    path = tmp_path / "queries.test.yaml"
    path.write_text(yaml.safe_dump(tests))

    result = subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True, check=False)

    assert result.returncode == 0, result.stdout + result.stderr
