"""The charts' copies and generated text match their sources."""

from __future__ import annotations

import json

import pytest
import values_doc
import yaml
from chart_render import CHARTS, REPO

CHART_NAMES = ["rollguard", "claims-api"]


def test_the_operator_chart_crds_are_identical_to_manifests_crds():
    source = REPO / "manifests" / "crds"
    assert any(source.glob("*.yaml")), "manifests/crds/ has no CRDs"
    copy = CHARTS / "rollguard" / "crds"
    wanted = {path.name: path.read_bytes() for path in source.glob("*.yaml")}
    actual = {path.name: path.read_bytes() for path in copy.glob("*.yaml")}

    assert actual == wanted, "charts/rollguard/crds/ drifted from manifests/crds/: run `make sync-crds`"


def test_the_chart_locustfile_is_identical_to_the_load_test_suite():
    source = REPO / "loadtest" / "locustfile.py"
    assert (CHARTS / "claims-api" / "files" / "locustfile.py").read_bytes() == source.read_bytes(), (
        "charts/claims-api/files/locustfile.py drifted: run `make sync-locustfile`"
    )


@pytest.mark.parametrize("chart", CHART_NAMES)
def test_the_readme_values_table_is_current(chart):
    assert values_doc.main(["--check", str(CHARTS / chart)]) == 0, "run `make charts-docs`"


@pytest.mark.parametrize("chart", CHART_NAMES)
def test_values_yaml_starts_with_the_schema_modeline(chart):
    first = (CHARTS / chart / "values.yaml").read_text().splitlines()[0]

    assert first == "# yaml-language-server: $schema=values.schema.json"


@pytest.mark.parametrize("chart", CHART_NAMES)
def test_every_documented_key_in_values_yaml_has_a_comment(chart):
    schema = json.loads((CHARTS / chart / "values.schema.json").read_text())

    assert values_doc.uncommented_keys((CHARTS / chart / "values.yaml").read_text(), schema) == []


@pytest.mark.parametrize("chart", CHART_NAMES)
def test_every_value_is_described_and_its_schema_default_matches(chart):
    schema = json.loads((CHARTS / chart / "values.schema.json").read_text())
    values = yaml.safe_load((CHARTS / chart / "values.yaml").read_text())
    rows = list(values_doc.rows(schema, values))

    assert [row.key for row in rows if not row.description] == []
    for row in rows:
        node = values_doc.documented_node(schema, tuple(row.key.split(".")))
        if "default" in node:
            assert node["default"] == row.default, (
                f"{row.key}: schema default {node['default']!r}, values.yaml {row.default!r}"
            )


@pytest.mark.parametrize("chart", CHART_NAMES)
def test_the_schema_closes_every_declared_object(chart):
    schema = json.loads((CHARTS / chart / "values.schema.json").read_text())
    open_objects = []

    def walk(node, path):
        node = values_doc.resolve(schema, node)
        if node.get("properties"):
            if node.get("additionalProperties") is not False:
                open_objects.append(path or "(root)")
            for name, child in node["properties"].items():
                walk(child, f"{path}.{name}".lstrip("."))

    walk(schema, "")
    assert open_objects == []
