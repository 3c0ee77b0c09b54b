"""The CRDs: examples pass, broken manifests fail, every status field the operator writes is declared."""

from __future__ import annotations

import copy
import datetime
import functools
import json
from pathlib import Path
from typing import Any

import celpy
import jsonschema
import pytest
import yaml
from fakecluster import PASSED_SUMMARY
from operator_harness import CRD_DIR, ROOT

from rollguard.builders import revision_of
from rollguard.builders.crds import with_defaults
from rollguard.planner import LoadTestSnapshot, ProbeResult, ReleaseSnapshot, plan_loadtest, plan_release

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLES = ROOT / "manifests" / "examples"

# The API server's CEL, as the CRDs' rules are written: each rule string is compiled
# and evaluated by cel-python, over the object with its defaults applied.
CEL = celpy.Environment()


@functools.cache
def cel_program(rule: str) -> celpy.Runner:
    return CEL.program(CEL.compile(rule))


def cel_holds(rule: str, value: Any) -> bool:
    """Whether `rule` admits `value`; an evaluation error rejects, as it does in the API server."""
    return cel_program(rule).evaluate({"self": celpy.json_to_cel(value)}) == celpy.celtypes.BoolType(True)


def crds() -> dict[str, dict]:
    return {
        crd["spec"]["names"]["kind"]: crd
        for crd in yaml.safe_load_all((CRD_DIR / "apireleases.rollguard.dev.yaml").read_text())
    } | {
        crd["spec"]["names"]["kind"]: crd
        for crd in yaml.safe_load_all((CRD_DIR / "loadtests.rollguard.dev.yaml").read_text())
    }


def schema_of(kind: str) -> dict:
    (version,) = crds()[kind]["spec"]["versions"]
    return version["schema"]["openAPIV3Schema"]


def cel_errors(schema: dict, value: Any) -> list[str]:
    if not isinstance(value, dict):
        return []
    value = with_defaults(schema, value)
    errors = [
        rule["message"]
        for rule in schema.get("x-kubernetes-validations", [])
        if not cel_holds(rule["rule"], value)
    ]
    for key, sub in (schema.get("properties") or {}).items():
        if key in value:
            errors += cel_errors(sub, value[key])
    return errors


def admission_errors(manifest: dict) -> list[str]:
    """What the API server would say: OpenAPI validation first, then the CEL rules."""
    schema = schema_of(manifest["kind"])
    errors = [error.message for error in jsonschema.Draft4Validator(schema).iter_errors(manifest)]
    return errors or cel_errors(schema, manifest)


def documents(folder: Path) -> list[tuple[str, dict]]:
    return [(path.name, yaml.safe_load(path.read_text())) for path in sorted(folder.glob("*.yaml"))]


@pytest.mark.parametrize(
    ("name", "manifest"), documents(EXAMPLES), ids=lambda v: v if isinstance(v, str) else ""
)
def test_the_examples_are_admitted(name, manifest):
    assert admission_errors(manifest) == []


@pytest.mark.parametrize(
    ("name", "manifest"), documents(FIXTURES), ids=lambda v: v if isinstance(v, str) else ""
)
def test_broken_manifests_are_rejected_at_admission(name, manifest):
    assert admission_errors(manifest) != []


def cel_rules(schema: dict) -> list[str]:
    found = [rule["rule"] for rule in schema.get("x-kubernetes-validations", [])]
    for sub in (schema.get("properties") or {}).values():
        found += cel_rules(sub)
    return found


@pytest.mark.parametrize("rule", cel_rules(schema_of("ApiRelease")) + cel_rules(schema_of("LoadTest")))
def test_every_cel_rule_compiles(rule):
    assert cel_program(rule) is not None


# Manifests that pass the OpenAPI schema and only a CEL rule refuses, with that rule's message.
CEL_REJECTS = {
    "apirelease-loadtest-without-image.yaml": "loadTest.image is required when the load test is enabled",
    "apirelease-name-too-long.yaml": "metadata.name must be a DNS-1035 label",
    "loadtest-name-starts-with-a-digit.yaml": "metadata.name must be a DNS-1035 label",
    "loadtest-both-targets.yaml": "target needs exactly one of service or url",
    "loadtest-no-target.yaml": "target needs exactly one of service or url",
    "loadtest-too-many-workers.yaml": "users must be at least the number of workers",
}


@pytest.mark.parametrize(("fixture", "message"), CEL_REJECTS.items())
def test_a_cel_rule_refuses_with_its_message(fixture, message):
    manifest = yaml.safe_load((FIXTURES / fixture).read_text())

    (error,) = admission_errors(manifest)
    assert error.startswith(message)


@pytest.mark.parametrize(
    ("thresholds", "admitted"),
    [
        ({"p95Ms": 500, "errorRatePercent": 5}, True),
        ({"p95Ms": 0.5, "errorRatePercent": 0.1}, True),
        ({"p95Ms": 0, "errorRatePercent": 5}, False),
        ({"p95Ms": 500, "errorRatePercent": 0}, False),
    ],
)
def test_the_threshold_rule_refuses_zero(thresholds, admitted):
    (rule,) = [r for r in cel_rules(schema_of("ApiRelease")) if "p95Ms" in r]

    assert cel_holds(rule, thresholds) is admitted


@pytest.mark.parametrize("kind", ["ApiRelease", "LoadTest"])
def test_the_crds_have_a_status_subresource_short_names_and_printer_columns(kind):
    crd = crds()[kind]
    (version,) = crd["spec"]["versions"]

    assert version["subresources"] == {"status": {}}
    assert crd["spec"]["names"]["shortNames"]
    assert "Age" in [column["name"] for column in version["additionalPrinterColumns"]]


def test_the_apirelease_printer_columns():
    (version,) = crds()["ApiRelease"]["spec"]["versions"]
    assert [c["name"] for c in version["additionalPrinterColumns"]] == [
        "Phase",
        "Image",
        "Stable",
        "Step",
        "Weight",
        "Ready",
        "Age",
    ]


def undeclared(schema: dict, value: Any, path: str = "status") -> list[str]:
    """Fields a structural schema would prune: the API server drops them silently."""
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return []
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        missing = [f"{path}.{key}" for key in value if key not in properties]
        return missing + [
            m
            for key, sub in properties.items()
            if key in value
            for m in undeclared(sub, value[key], f"{path}.{key}")
        ]
    if isinstance(value, list) and "items" in schema:
        return [m for item in value for m in undeclared(schema["items"], item, f"{path}[]")]
    return []


T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def release_statuses() -> list[dict]:
    template = {"spec": {"containers": [{"name": "api", "image": "api:2"}]}}
    stable = {"spec": {"containers": [{"name": "api", "image": "api:1"}]}}
    release = {
        "metadata": {"name": "api", "namespace": "ns", "generation": 1},
        "spec": {
            "template": template,
            "service": {"name": "api"},
            "loadTest": {"enabled": True, "image": "lt"},
        },
        "status": {},
    }
    statuses = [plan_release(ReleaseSnapshot(release, None, [], {}, None, T0)).status]
    rolling = copy.deepcopy(release)
    rolling["status"] = {
        "observedGeneration": 1,
        "phase": "RollingBack",
        "phaseStartedAt": "2026-01-01T00:00:00Z",
        "stableRevision": revision_of(stable),
        "stableTemplate": stable,
        "rollback": {
            "reason": "ReadyTimeout",
            "detectedAt": "2026-01-01T00:00:00Z",
            "toRevision": revision_of(stable),
        },
        "loadTest": {
            "name": "x",
            "phase": "Failed",
            "verdict": "failed",
            "reasons": ["p95"],
            "p95Ms": 1,
            "requests": 2,
        },
    }
    deployment = {
        "metadata": {"generation": 1},
        "spec": {"template": {"metadata": {"labels": {"rollguard.dev/revision": revision_of(stable)}}}},
        "status": {"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2},
    }
    statuses.append(
        plan_release(ReleaseSnapshot(rolling, deployment, [], {}, None, T0, ProbeResult(True, "ok"))).status
    )
    return statuses


def test_every_apirelease_status_field_the_planner_writes_is_declared():
    for status in release_statuses():
        assert undeclared(schema_of("ApiRelease")["properties"]["status"], status) == []


def test_every_loadtest_status_field_the_planner_writes_is_declared():
    loadtest = {
        "metadata": {"name": "lt", "namespace": "ns"},
        "spec": {
            "target": {"url": "http://x"},
            "image": "lt",
            "thresholds": {"p95Ms": 1, "errorRatePercent": 1},
        },
    }
    summary = json.dumps(PASSED_SUMMARY)
    pod = {"status": {"containerStatuses": [{"state": {"terminated": {"exitCode": 0, "message": summary}}}]}}
    job = {"metadata": {"name": "lt-master"}, "status": {}}
    plan = plan_loadtest(LoadTestSnapshot(loadtest, {"lt-master": job}, {}, [pod], True, T0))

    assert plan.status["phase"] == "Passed"
    assert undeclared(schema_of("LoadTest")["properties"]["status"], plan.status) == []
