"""Rendering the charts with the real helm, and reading what comes out.

The value profiles are the configurations a platform team actually runs; every
integration test in this folder checks each of them.
"""

from __future__ import annotations

import copy
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
CHARTS = REPO / "charts"
# The newest Kubernetes the bundled kubernetes-validate schemas cover, and the
# oldest the charts' kubeVersion accepts.
KUBERNETES_VERSIONS = ("1.29.0", "1.37.0")
CRD_GROUP = "rollguard.dev"
DIGEST = "sha256:" + "ab" * 32


@dataclass(frozen=True)
class Profile:
    """One chart rendered with one set of values."""

    id: str
    chart: str
    release: str
    namespace: str
    values: Mapping[str, Any] = field(default_factory=dict)

    @property
    def chart_dir(self) -> Path:
        return CHARTS / self.chart


PROFILES = (
    Profile("rollguard-defaults", "rollguard", "rollguard", "rollguard-system"),
    Profile(
        "rollguard-cluster-wide",
        "rollguard",
        "rollguard",
        "rollguard-system",
        {"rbac": {"clusterWide": True}},
    ),
    Profile(
        "rollguard-namespaces-pinned",
        "rollguard",
        "ops",
        "platform",
        {
            "watchNamespaces": ["billing", "billing-staging"],
            "image": {"digest": DIGEST},
            "metrics": {"enabled": False},
            "networkPolicy": {"kubeApiServer": {"cidrs": ["10.0.0.1/32"]}},
        },
    ),
    Profile("claims-api-defaults", "claims-api", "billing", "billing"),
    Profile(
        "claims-api-operator-disabled", "claims-api", "billing", "billing", {"operator": {"enabled": False}}
    ),
    Profile(
        "claims-api-ingress-hpa",
        "claims-api",
        "claims",
        "billing",
        {
            "ingress": {
                "enabled": True,
                "className": "nginx",
                "hosts": ["claims.example.com"],
                "tls": [{"secretName": "claims-example-com-tls", "hosts": ["claims.example.com"]}],
            },
            "autoscaling": {"enabled": True, "minReplicas": 3, "maxReplicas": 10},
            "loadTest": {"tokenSecretRef": {"name": "claims-api-loadtest"}, "workers": 2},
            "networkPolicy": {
                "database": {
                    "podSelector": {"app.kubernetes.io/name": "postgresql"},
                    "namespaceSelector": {"kubernetes.io/metadata.name": "databases"},
                },
                "extraIngressFrom": [
                    {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}
                ],
            },
        },
    ),
    Profile(
        "claims-api-plain-autoscaled",
        "claims-api",
        "claims",
        "billing",
        {
            "operator": {"enabled": False},
            "autoscaling": {"enabled": True},
            "image": {"digest": DIGEST},
            "networkPolicy": {"database": {"cidrs": ["10.20.0.0/24"]}},
        },
    ),
)


def find_tool(name: str) -> Path | None:
    """The project's pinned tool (.tools), else one on PATH."""
    for candidate in (REPO / ".tools" / "bin" / name, REPO / ".tools" / name / "bin" / name):
        if candidate.exists():
            return candidate
    found = shutil.which(name)
    return Path(found) if found else None


def helm(helm_bin: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(helm_bin), *args], capture_output=True, text=True, check=False, timeout=120)


def values_args(profile: Profile, tmp: Path) -> list[str]:
    if not profile.values:
        return []
    path = tmp / f"{profile.id}.values.yaml"
    path.write_text(yaml.safe_dump(dict(profile.values)))
    return ["--values", str(path)]


def render(helm_bin: Path, profile: Profile, tmp: Path) -> str:
    """`helm template` of the profile, CRDs and test hooks included."""
    result = helm(
        helm_bin,
        "template", profile.release, str(profile.chart_dir),
        "--namespace", profile.namespace, "--include-crds", *values_args(profile, tmp),
    )  # fmt: skip
    if result.returncode != 0:
        raise AssertionError(f"helm template {profile.id} failed:\n{result.stderr}")
    return result.stdout


def documents(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def describe(doc: Mapping[str, Any]) -> str:
    meta = doc.get("metadata", {})
    return f"{doc.get('kind')}/{meta.get('name')}"


def is_custom_resource(doc: Mapping[str, Any]) -> bool:
    return str(doc.get("apiVersion", "")).startswith(f"{CRD_GROUP}/")


_TEMPLATE_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ApiRelease"}


def pod_specs(doc: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every pod spec a document would run, named by where it sits."""
    kind = doc.get("kind")
    spec = doc.get("spec") or {}
    if kind == "Pod":
        yield describe(doc), spec
    elif kind in _TEMPLATE_KINDS:
        yield f"{describe(doc)} template", (spec.get("template") or {}).get("spec") or {}
    elif kind == "CronJob":
        job = (spec.get("jobTemplate") or {}).get("spec") or {}
        yield f"{describe(doc)} job template", (job.get("template") or {}).get("spec") or {}


def restricted_violations(pod: Mapping[str, Any]) -> list[str]:
    """How a pod spec breaks the restricted Pod Security Standard (plus our own rules).

    Our rules on top of the standard: a UID of at least 10000 (clear of host
    users) and a read-only root filesystem in every container.
    """
    problems = []
    pod_context = pod.get("securityContext") or {}
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(flag):
            problems.append(f"{flag} is set")
    for volume in pod.get("volumes") or []:
        if "hostPath" in volume:
            problems.append(f"volume {volume.get('name')} is a hostPath")
    containers = [*(pod.get("initContainers") or []), *(pod.get("containers") or [])]
    if not containers:
        problems.append("no containers")
    for container in containers:
        name = container.get("name")
        context = container.get("securityContext") or {}

        def effective(key: str, context: Mapping[str, Any] = context) -> Any:
            return context.get(key, pod_context.get(key))

        if effective("runAsNonRoot") is not True:
            problems.append(f"{name}: runAsNonRoot is not true")
        uid = effective("runAsUser")
        if not isinstance(uid, int) or uid < 10000:
            problems.append(f"{name}: runAsUser {uid!r} is not a UID >= 10000")
        if (effective("seccompProfile") or {}).get("type") not in ("RuntimeDefault", "Localhost"):
            problems.append(f"{name}: seccompProfile is not RuntimeDefault")
        if context.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{name}: allowPrivilegeEscalation is not false")
        if context.get("privileged"):
            problems.append(f"{name}: privileged")
        if "ALL" not in ((context.get("capabilities") or {}).get("drop") or []):
            problems.append(f"{name}: capabilities do not drop ALL")
        if set((context.get("capabilities") or {}).get("add") or []) - {"NET_BIND_SERVICE"}:
            problems.append(f"{name}: adds capabilities")
        if context.get("readOnlyRootFilesystem") is not True:
            problems.append(f"{name}: readOnlyRootFilesystem is not true")
    return problems


def strict_crd_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A CRD's openAPIV3Schema that rejects unknown fields, as `kubectl apply` with
    strict field validation does, instead of silently pruning them."""
    result = copy.deepcopy(dict(schema))

    def tighten(node: dict[str, Any]) -> None:
        if node.get("properties") and not node.get("x-kubernetes-preserve-unknown-fields"):
            node.setdefault("additionalProperties", False)
        for child in (node.get("properties") or {}).values():
            tighten(child)
        if isinstance(node.get("items"), dict):
            tighten(node["items"])

    tighten(result)
    return result


def crd_schemas(crd_docs: list[Mapping[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> the strict openAPIV3Schema, for every served version."""
    schemas = {}
    for crd in crd_docs:
        spec = crd["spec"]
        for version in spec["versions"]:
            api_version = f"{spec['group']}/{version['name']}"
            schemas[(api_version, spec["names"]["kind"])] = strict_crd_schema(
                version["schema"]["openAPIV3Schema"]
            )
    return schemas


def load_crds(directory: Path) -> list[dict[str, Any]]:
    return [doc for path in sorted(directory.glob("*.yaml")) for doc in documents(path.read_text())]


def label_selector_matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """Whether a metav1.LabelSelector (matchLabels and matchExpressions) selects `labels`."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True
