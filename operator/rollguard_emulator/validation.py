"""The object validation of the API server that an operator can trip over (answered with 422).

Names (DNS-1123 subdomains; DNS-1035 labels for Services; 63 characters for
Jobs, whose name becomes a label value), label values, container ports and
resource quantities, and a Deployment selector that must match its template
and never change.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
QUANTITY = re.compile(
    r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$"
)
# The kinds whose name becomes a label value or a DNS label of its own.
LABEL_NAMED = {"services": DNS1035_LABEL, "jobs": DNS1123_LABEL}


def _name_problems(plural: str, name: str) -> Iterator[str]:
    pattern = LABEL_NAMED.get(plural)
    if pattern is not None:
        kind = "DNS-1035 label" if pattern is DNS1035_LABEL else "DNS-1123 label"
        if len(name) > 63:
            yield f"metadata.name: Invalid value: {name!r}: must be no more than 63 characters"
        if not pattern.match(name):
            yield f"metadata.name: Invalid value: {name!r}: a {kind} must be lower case alphanumerics or '-'"
        return
    if len(name) > 253 or not DNS1123_SUBDOMAIN.match(name):
        yield f"metadata.name: Invalid value: {name!r}: a lowercase RFC 1123 subdomain (253 characters)"


def _label_problems(path: str, labels: Mapping[str, Any]) -> Iterator[str]:
    for key, value in (labels or {}).items():
        text = str(value)
        if len(text) > 63 or not LABEL_VALUE.match(text):
            yield f"{path}: Invalid value: {text!r}: at most 63 alphanumerics, '-', '_' or '.'"
        if len(key.rsplit("/", 1)[-1]) > 63:
            yield f"{path}: Invalid value: {key!r}: a label key's name part must be 63 characters or less"


def _pod_spec_problems(path: str, spec: Mapping[str, Any]) -> Iterator[str]:
    for kind in ("initContainers", "containers"):
        for index, container in enumerate(spec.get(kind) or []):
            where = f"{path}.{kind}[{index}]"
            for number, port in enumerate(container.get("ports") or []):
                value = port.get("containerPort")
                if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 65536:
                    yield f"{where}.ports[{number}].containerPort: Invalid value: {value!r}: not a port"
            for section in ("requests", "limits"):
                for resource, amount in ((container.get("resources") or {}).get(section) or {}).items():
                    if isinstance(amount, bool) or not QUANTITY.match(str(amount)):
                        yield (
                            f"{where}.resources.{section}[{resource}]: Invalid value: {amount!r}: "
                            "quantities must match the regular expression "
                            "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
                        )


def _template(body: Mapping[str, Any]) -> Mapping[str, Any] | None:
    template = (body.get("spec") or {}).get("template")
    return template if isinstance(template, Mapping) else None


def _selector_matches(selector: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    wanted = selector.get("matchLabels") or {}
    if not all(labels.get(key) == value for key, value in wanted.items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
        present = key in labels
        held = {
            "In": present and labels[key] in values,
            "NotIn": not present or labels[key] not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }[operator]
        if not held:
            return False
    return True


def problems(plural: str, body: Mapping[str, Any], old: Mapping[str, Any] | None = None) -> list[str]:
    """Why the API server would refuse to store `body` (a create when `old` is None), or []."""
    meta = body.get("metadata") or {}
    found = [
        *_name_problems(plural, str(meta.get("name", ""))),
        *_label_problems("metadata.labels", meta.get("labels") or {}),
    ]
    if plural == "pods":
        found += _pod_spec_problems("spec", body.get("spec") or {})
    template = _template(body)
    if template is not None and plural in (
        "deployments",
        "jobs",
        "replicasets",
        "statefulsets",
        "daemonsets",
    ):
        labels = (template.get("metadata") or {}).get("labels") or {}
        found += _label_problems("spec.template.metadata.labels", labels)
        found += _pod_spec_problems("spec.template.spec", template.get("spec") or {})
        if plural == "deployments":
            selector = (body.get("spec") or {}).get("selector") or {}
            if not _selector_matches(selector, labels):
                found.append(
                    "spec.template.metadata.labels: Invalid value: `selector` does not match the labels"
                )
            if old is not None and selector != (old.get("spec") or {}).get("selector"):
                found.append("spec.selector: Invalid value: field is immutable")
    return found
