"""The pure helpers the chart checks rely on: they must catch what they claim to."""

from __future__ import annotations

import copy

import jsonschema
import pytest
import values_doc
from chart_render import label_selector_matches, pod_specs, restricted_violations, strict_crd_schema
from scan_report import AllowEntry, Finding, parse_report, unexplained, unused

RESTRICTED_POD = {
    "securityContext": {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "seccompProfile": {"type": "RuntimeDefault"},
    },
    "containers": [
        {
            "name": "api",
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "readOnlyRootFilesystem": True,
                "capabilities": {"drop": ["ALL"]},
            },
        }
    ],
}


def test_a_restricted_pod_has_no_violation():
    assert restricted_violations(RESTRICTED_POD) == []


@pytest.mark.parametrize(
    ("path", "value", "problem"),
    [
        (("securityContext", "runAsNonRoot"), False, "runAsNonRoot"),
        (("securityContext", "runAsUser"), 1000, "runAsUser"),
        (("securityContext", "seccompProfile"), {"type": "Unconfined"}, "seccompProfile"),
        (("containers", 0, "securityContext", "allowPrivilegeEscalation"), True, "allowPrivilegeEscalation"),
        (("containers", 0, "securityContext", "readOnlyRootFilesystem"), False, "readOnlyRootFilesystem"),
        (("containers", 0, "securityContext", "capabilities"), {"drop": ["NET_RAW"]}, "drop ALL"),
        (
            ("containers", 0, "securityContext", "capabilities"),
            {"drop": ["ALL"], "add": ["SYS_ADMIN"]},
            "adds",
        ),
        (("containers", 0, "securityContext", "privileged"), True, "privileged"),
        (("containers", 0, "securityContext", "runAsUser"), 0, "runAsUser"),
        (("hostNetwork",), True, "hostNetwork"),
        (("volumes",), [{"name": "host", "hostPath": {"path": "/"}}], "hostPath"),
    ],
)
def test_each_restricted_field_is_enforced(path, value, problem):
    pod = copy.deepcopy(RESTRICTED_POD)
    target = pod
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value

    assert any(problem in message for message in restricted_violations(pod))


def test_an_init_container_is_checked_too():
    pod = copy.deepcopy(RESTRICTED_POD)
    pod["initContainers"] = [{"name": "init"}]

    assert any(message.startswith("init:") for message in restricted_violations(pod))


@pytest.mark.parametrize(
    ("doc", "count"),
    [
        ({"kind": "Pod", "metadata": {"name": "p"}, "spec": RESTRICTED_POD}, 1),
        (
            {"kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": RESTRICTED_POD}}},
            1,
        ),
        (
            {"kind": "ApiRelease", "metadata": {"name": "a"}, "spec": {"template": {"spec": RESTRICTED_POD}}},
            1,
        ),
        (
            {
                "kind": "CronJob",
                "metadata": {"name": "c"},
                "spec": {"jobTemplate": {"spec": {"template": {"spec": RESTRICTED_POD}}}},
            },
            1,
        ),
        ({"kind": "Service", "metadata": {"name": "s"}, "spec": {}}, 0),
    ],
)
def test_pod_specs_are_found_wherever_a_kind_keeps_them(doc, count):
    assert len(list(pod_specs(doc))) == count


CRD_SCHEMA = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "replicas": {"type": "integer"},
                "template": {
                    "type": "object",
                    "x-kubernetes-preserve-unknown-fields": True,
                    "properties": {"spec": {"type": "object"}},
                },
            },
        }
    },
}


@pytest.mark.parametrize(
    ("doc", "valid"),
    [
        ({"spec": {"replicas": 2}}, True),
        ({"spec": {"replica": 2}}, False),
        ({"spec": {"template": {"spec": {}, "anything": 1}}}, True),
        ({"spec": {"replicas": "2"}}, False),
    ],
)
def test_the_strict_crd_schema_rejects_unknown_fields_outside_preserved_objects(doc, valid):
    assert jsonschema.Draft4Validator(strict_crd_schema(CRD_SCHEMA)).is_valid(doc) is valid


@pytest.mark.parametrize(
    ("selector", "labels", "matches"),
    [
        ({"matchLabels": {"a": "1"}}, {"a": "1", "b": "2"}, True),
        ({"matchLabels": {"a": "1"}}, {"a": "2"}, False),
        ({"matchExpressions": [{"key": "r", "operator": "In", "values": ["x", "y"]}]}, {"r": "y"}, True),
        ({"matchExpressions": [{"key": "r", "operator": "In", "values": ["x"]}]}, {}, False),
        ({"matchExpressions": [{"key": "r", "operator": "NotIn", "values": ["x"]}]}, {"r": "x"}, False),
        ({"matchExpressions": [{"key": "r", "operator": "Exists"}]}, {"r": ""}, True),
        ({"matchExpressions": [{"key": "r", "operator": "DoesNotExist"}]}, {"r": ""}, False),
        ({}, {"a": "1"}, True),
    ],
)
def test_label_selectors_match_like_kubernetes(selector, labels, matches):
    assert label_selector_matches(selector, labels) is matches


ALLOWLIST = [AllowEntry("CKV_K8S_8", ("Pod.*-test-*",), "test pods exit at once")]


@pytest.mark.parametrize(
    ("finding", "explained"),
    [
        (Finding("CKV_K8S_8", "Pod.ns.x-test-ready", "f.yaml"), True),
        (Finding("CKV_K8S_8", "Deployment.ns.x", "f.yaml"), False),
        (Finding("CKV_K8S_9", "Pod.ns.x-test-ready", "f.yaml"), False),
    ],
)
def test_the_allow_list_explains_only_its_check_on_its_resources(finding, explained):
    assert (unexplained([finding], ALLOWLIST) == []) is explained


def test_an_allow_list_entry_that_matches_nothing_is_reported():
    assert unused(ALLOWLIST, [Finding("CKV_K8S_9", "Pod.ns.x-test-ready", "f.yaml")]) == ALLOWLIST


def test_checkov_reports_are_counted_per_file():
    check = {"check_id": "CKV_K8S_1", "resource": "Pod.ns.p", "file_path": "/a.yaml"}
    report = {
        "check_type": "kubernetes",
        "results": {"passed_checks": [check, check], "failed_checks": [check], "skipped_checks": []},
    }

    scan = parse_report([report, {"check_type": "secrets"}])

    assert scan.counts == {"a.yaml": {"passed": 2, "failed": 1}}
    assert scan.findings == (Finding("CKV_K8S_1", "Pod.ns.p", "a.yaml"),)


SCHEMA = {
    "type": "object",
    "properties": {
        "image": {"$ref": "#/definitions/image", "description": "The image."},
        "resources": {
            "type": "object",
            "description": "Resources.",
            "properties": {"limits": {"type": "object"}},
        },
        "replicas": {"type": "integer", "default": 2, "description": "Pods."},
    },
    "definitions": {
        "image": {"type": "object", "properties": {"tag": {"type": "string", "description": "Tag."}}}
    },
}


def test_rows_walk_documented_objects_and_keep_free_form_ones_whole():
    rows = list(values_doc.rows(SCHEMA, {"image": {"tag": "1.0"}, "resources": {"limits": {"cpu": 1}}}))

    assert [(row.key, row.default) for row in rows] == [
        ("image.tag", "1.0"),
        ("resources", {"limits": {"cpu": 1}}),
        ("replicas", 2),
    ]


def test_keys_without_a_comment_are_found():
    text = "# -- The image.\nimage:\n  tag: x\nresources:\n  limits:\n    cpu: 1\n# -- Pods.\nreplicas: 2\n"

    assert values_doc.uncommented_keys(text, SCHEMA) == ["image.tag", "resources"]


def test_the_table_replaces_only_the_marked_section():
    readme = f"# Title\n\n{values_doc.START}\nold\n{values_doc.END}\n\nMore prose.\n"

    assert (
        values_doc.with_table(readme, "new")
        == f"# Title\n\n{values_doc.START}\nnew\n{values_doc.END}\n\nMore prose.\n"
    )


def test_comments_are_generated_from_the_schema_and_commented_examples_stay():
    text = (
        "# -- Old words.\n# more old words\nimage:\n  tag: x\nresources: {}\n"
        "# resources:\n#   limits: {cpu: 1}\n# -- Old pods.\nreplicas: 2\n"
    )

    assert values_doc.with_comments(text, SCHEMA) == (
        "# -- The image.\nimage:\n  # -- Tag.\n  tag: x\n# -- Resources.\nresources: {}\n"
        "# resources:\n#   limits: {cpu: 1}\n# -- Pods.\nreplicas: 2\n"
    )


def test_a_long_description_wraps_under_its_marker():
    lines = values_doc.comment_lines(2, "word " * 40)

    assert lines[0].startswith("  # -- word")
    assert all(line.startswith("  # ") and len(line) <= 80 for line in lines)
