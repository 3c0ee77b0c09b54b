"""One table of ApiRelease defaults: the CRD's `default`s.

The operator reads them from the CRD it ships (rollguard.builders.crds); the API
chart's values.yaml must render an ApiRelease that asks for the same values
(values.schema.json is held to values.yaml by test_chart_sync), except where the
chart deliberately chooses otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from chart_render import REPO

from rollguard.builders.crds import schema_of, spec_with_defaults

# What the API chart sets on purpose unlike the CRD: it ships a load-test image and
# a locustfile, so its releases are verified by default.
CHART_CHOICES = {"loadTest.enabled": True}


def leaves(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping) and value:
        for key, item in value.items():
            yield from leaves(item, f"{prefix}.{key}".lstrip("."))
    else:
        yield prefix, value


def crd_defaults() -> dict[str, Any]:
    return dict(leaves(spec_with_defaults("ApiRelease", {})))


def test_the_operator_package_ships_the_crds_of_manifests_crds():
    source = REPO / "manifests" / "crds"
    wanted = {path.name: path.read_bytes() for path in source.glob("*.yaml")}
    package = REPO / "operator" / "rollguard" / "crds"
    shipped = {path.name: path.read_bytes() for path in package.glob("*.yaml")}

    assert shipped == wanted, "operator/rollguard/crds/ drifted from manifests/crds/: run `make sync-crds`"


def test_the_threshold_defaults_are_the_crds():
    spec = schema_of("ApiRelease")["properties"]["spec"]
    thresholds = spec["properties"]["loadTest"]["properties"]["thresholds"]

    assert spec_with_defaults("ApiRelease", {})["loadTest"]["thresholds"] == {
        name: node["default"] for name, node in thresholds["properties"].items()
    }


def test_the_api_chart_defaults_render_the_crd_defaults(rendered):
    (release,) = [doc for doc in rendered["claims-api-defaults"] if doc["kind"] == "ApiRelease"]
    asked = dict(leaves(release["spec"]))
    defaults = crd_defaults()

    differing = {
        path: (asked[path], default)
        for path, default in defaults.items()
        if path in asked and asked[path] != CHART_CHOICES.get(path, default)
    }
    assert differing == {}, "values.yaml (rendered, CRD default) disagree: change the CRD or the chart"
    assert set(CHART_CHOICES) <= set(asked)


def test_the_gates_own_threshold_defaults_are_the_crds():
    from rollguard_loadtest.thresholds import Thresholds

    assert Thresholds().as_json() == spec_with_defaults("ApiRelease", {})["loadTest"]["thresholds"]
