"""The sandbox's values and story render with the real chart and helm into what the story relies on."""

from __future__ import annotations

import pytest

from rollguard_sandbox.chart import find, render
from rollguard_sandbox.checkout import PACKAGE_DIR, Checkout
from rollguard_sandbox.demo import Options, story_steps
from rollguard_sandbox.story import expand_values

pytestmark = pytest.mark.integration

CHECKOUT = Checkout.find()
HELM = CHECKOUT.helm()


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict]]:
    if HELM is None or not CHECKOUT.chart.exists():
        pytest.skip("needs helm (make tools) and charts/claims-api")
    options = Options(results=PACKAGE_DIR, load_seconds=5, ready_timeout=20)
    return {
        step.name: render(
            HELM,
            CHECKOUT.chart,
            release="claims-api",
            namespace="default",
            values_files=[options.values],
            values=expand_values(step.values, {"PROMETHEUS_URL": "http://127.0.0.1:9999"}),
        )
        for step in story_steps(options)
    }


def container(manifests, name="api"):
    spec = find(manifests, "ApiRelease")["spec"]
    return next(c for c in spec["template"]["spec"]["containers"] if c["name"] == name)


def test_hooks_are_left_out_and_the_service_is_in(rendered):
    for manifests in rendered.values():
        assert all("helm.sh/hook" not in (m["metadata"].get("annotations") or {}) for m in manifests)
        assert find(manifests, "Service")["metadata"]["name"] == "claims-api"


def test_command_line_overrides_reach_every_release(rendered):
    for manifests in rendered.values():
        spec = find(manifests, "ApiRelease")["spec"]
        assert spec["loadTest"]["runTimeSeconds"] == 5
        assert spec["health"]["readyTimeoutSeconds"] == 20
        assert spec["loadTest"]["tokenSecretRef"] == {"name": "claims-api-loadtest", "key": "tokens"}


def test_each_release_changes_the_pod_template(rendered):
    templates = [str(find(manifests, "ApiRelease")["spec"]["template"]) for manifests in rendered.values()]
    assert len(set(templates)) == len(templates)


def test_the_broken_releases_break_what_the_story_says(rendered):
    database = next(
        e for e in container(rendered["unreachable-database"])["env"] if e["name"] == "DATABASE_URL"
    )
    assert database["valueFrom"]["secretKeyRef"]["name"] == "claims-api-database-unreachable"
    assert find(rendered["unreachable-database"], "ApiRelease")["spec"]["migrations"]["enabled"] is False
    env = {e["name"]: e.get("value") for e in container(rendered["crash-loop"])["env"]}
    assert env["GUNICORN_CMD_ARGS"] == "--no-such-flag"
    for name in ("broken-endpoint", "broken-endpoint-canary"):
        env = {e["name"]: e.get("value") for e in container(rendered[name])["env"]}
        assert env["API_FAULT_ROUTES"] == "claim-list"
    assert "canary" not in find(rendered["broken-endpoint"], "ApiRelease")["spec"].get("strategy", {})
    steps = find(rendered["broken-endpoint-canary"], "ApiRelease")["spec"]["strategy"]["canary"]["steps"]
    assert [next(iter(step)) for step in steps] == ["setWeight", "analysis", "setWeight"]
    metrics = {metric["name"]: metric for metric in steps[1]["analysis"]["metrics"]}
    assert set(metrics) == {"canary-load", "error-rate"}
    assert metrics["canary-load"]["provider"] == {"loadTest": {}}
    assert find(rendered["broken-endpoint-canary"], "ApiRelease")["spec"]["loadTest"]["workers"] == 2
    metric = metrics["error-rate"]
    assert metric["provider"]["prometheus"]["address"] == "http://127.0.0.1:9999"
    assert 'revision="{{args.canaryRevision}}"' in metric["provider"]["prometheus"]["query"]
