"""The API's metrics port: on every API pod and the Service, open to the monitoring namespace only,
labelled with the revision the operator gives the pods, and scraped by an optional ServiceMonitor."""

from __future__ import annotations

import dataclasses

import jsonschema
import pytest
from chart_render import PROFILES, documents, label_selector_matches, render
from test_chart_wiring import API_PROFILES, one

import rollguard.builders
from rollguard.builders.spec import REVISION_LABEL

pytestmark = pytest.mark.integration

PROFILE = {profile.id: profile for profile in PROFILES}
MONITORING = {"kubernetes.io/metadata.name": "monitoring"}

# The ServiceMonitor fields the chart renders (monitoring.coreos.com/v1), unknown
# ones rejected: a misspelt field would be pruned by the API server, silently.
DURATION = "^([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)?$"
SERVICE_MONITOR = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"},
        "kind": {"const": "ServiceMonitor"},
        "metadata": {
            "type": "object",
            "required": ["name", "namespace", "labels"],
            "properties": {"name": {"type": "string"}, "namespace": {"type": "string"}, "labels": {}},
            "additionalProperties": False,
        },
        "spec": {
            "type": "object",
            "required": ["selector", "endpoints", "namespaceSelector"],
            "additionalProperties": False,
            "properties": {
                "selector": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"matchLabels": {"type": "object", "minProperties": 1}},
                },
                "namespaceSelector": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"matchNames": {"type": "array", "items": {"type": "string"}}},
                },
                "endpoints": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["port"],
                        "additionalProperties": False,
                        "properties": {
                            "port": {"type": "string"},
                            "path": {"type": "string", "pattern": "^/"},
                            "scheme": {"enum": ["http", "https"]},
                            "interval": {"type": "string", "pattern": DURATION},
                            "scrapeTimeout": {"type": "string", "pattern": DURATION},
                        },
                    },
                },
            },
        },
    },
}


def api_container(docs):
    if any(doc["kind"] == "ApiRelease" for doc in docs):
        deployment = rollguard.builders.build_deployment(one(docs, "ApiRelease"))
    else:
        deployment = one(docs, "Deployment")
    pod = deployment["spec"]["template"]
    return pod, next(c for c in pod["spec"]["containers"] if c["name"] == "api")


def env_of(container):
    return {entry["name"]: entry for entry in container["env"]}


def peers_of_port(policy, port):
    return [rule["from"] for rule in policy["spec"]["ingress"] if {"protocol": "TCP", "port": port} in rule["ports"]]


@pytest.mark.parametrize("profile_id", API_PROFILES)
def test_the_metrics_port_is_on_the_pods_and_the_service_and_open_only_to_monitoring(rendered, profile_id):
    docs = rendered[profile_id]
    _, container = api_container(docs)
    service = one(docs, "Service")
    policy = one(docs, "NetworkPolicy", service["metadata"]["name"])

    assert {"name": "metrics", "containerPort": 9100, "protocol": "TCP"} in container["ports"]
    assert env_of(container)["METRICS_PORT"] == {"name": "METRICS_PORT", "value": "9100"}
    assert {"name": "metrics", "port": 9100, "targetPort": "metrics", "protocol": "TCP"} in service["spec"]["ports"]
    assert peers_of_port(policy, "metrics") == [[{"namespaceSelector": {"matchLabels": MONITORING}}]]
    # The monitoring namespace reaches the metrics port, not the API.
    for peers in peers_of_port(policy, "http"):
        assert all("namespaceSelector" not in peer or peer["namespaceSelector"]["matchLabels"] != MONITORING
                   for peer in peers)


@pytest.mark.parametrize("profile_id", ["claims-api-defaults", "claims-api-ingress-hpa"])
def test_with_the_operator_the_revision_label_is_the_pods_own_revision(rendered, profile_id):
    pod, container = api_container(rendered[profile_id])

    field = env_of(container)["API_REVISION"]["valueFrom"]["fieldRef"]["fieldPath"]
    assert field == f"metadata.labels['{REVISION_LABEL}']"
    assert pod["metadata"]["labels"][REVISION_LABEL]


@pytest.mark.parametrize(
    ("profile_id", "revision"),
    [("claims-api-operator-disabled", "0.1.0"), ("claims-api-plain-autoscaled", "sha256:" + "ab" * 32)],
)
def test_a_plain_deployment_labels_its_series_with_the_image(rendered, profile_id, revision):
    _, container = api_container(rendered[profile_id])

    assert env_of(container)["API_REVISION"] == {"name": "API_REVISION", "value": revision}


def test_no_service_monitor_unless_asked(rendered):
    for profile_id in API_PROFILES:
        assert not [doc for doc in rendered[profile_id] if doc["kind"] == "ServiceMonitor"]


def _render(helm_bin, tmp_path, values):
    profile = dataclasses.replace(PROFILE["claims-api-defaults"], values=values)
    return documents(render(helm_bin, profile, tmp_path))


def test_the_service_monitor_scrapes_the_metrics_port_of_the_charts_service(helm_bin, tmp_path):
    docs = _render(
        helm_bin,
        tmp_path,
        {"metrics": {"serviceMonitor": {"enabled": True, "interval": "15s", "labels": {"release": "kps"}}}},
    )
    monitor, service = one(docs, "ServiceMonitor"), one(docs, "Service")

    jsonschema.Draft7Validator(SERVICE_MONITOR).validate(monitor)
    assert monitor["metadata"]["namespace"] == service["metadata"]["namespace"] == "billing"
    assert monitor["metadata"]["labels"]["release"] == "kps"
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["billing"]}
    assert label_selector_matches(monitor["spec"]["selector"], service["metadata"]["labels"])
    assert monitor["spec"]["endpoints"] == [
        {"port": "metrics", "path": "/metrics", "scheme": "http", "interval": "15s", "scrapeTimeout": "10s"}
    ]
    assert "metrics" in {port["name"] for port in service["spec"]["ports"]}


def test_metrics_turned_off_close_the_port_everywhere(helm_bin, tmp_path):
    docs = _render(
        helm_bin,
        tmp_path,
        {"metrics": {"enabled": False, "serviceMonitor": {"enabled": True}}},
    )
    _, container = api_container(docs)
    service = one(docs, "Service")

    assert [port["name"] for port in container["ports"]] == ["http"]
    assert env_of(container)["METRICS_PORT"]["value"] == "0"
    assert [port["name"] for port in service["spec"]["ports"]] == ["http"]
    assert peers_of_port(one(docs, "NetworkPolicy", service["metadata"]["name"]), "metrics") == []
    assert not [doc for doc in docs if doc["kind"] == "ServiceMonitor"]


def test_a_prometheus_pod_selector_narrows_the_peer_to_those_pods(helm_bin, tmp_path):
    prometheus = {"app.kubernetes.io/name": "prometheus"}
    docs = _render(helm_bin, tmp_path, {"metrics": {"monitoringPodSelector": prometheus}})
    policy = one(docs, "NetworkPolicy", one(docs, "Service")["metadata"]["name"])

    assert peers_of_port(policy, "metrics") == [
        [{"namespaceSelector": {"matchLabels": MONITORING}, "podSelector": {"matchLabels": prometheus}}]
    ]
