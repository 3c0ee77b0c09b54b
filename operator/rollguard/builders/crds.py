"""The operator's own CRDs, and the defaults their schemas declare.

The package ships a copy of manifests/crds/ (`make sync-crds` writes it, a test
fails on drift), so the defaults the API server applies at admission and the
ones the operator fills in for objects written without them are one table: the
CRD's `default`s.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from importlib import resources
from typing import Any

import yaml

CRD_FILES = ("apireleases.rollguard.dev.yaml", "loadtests.rollguard.dev.yaml")


@functools.cache
def _crds() -> dict[str, dict[str, Any]]:
    folder = resources.files("rollguard") / "crds"
    found = {}
    for filename in CRD_FILES:
        crd = yaml.safe_load(folder.joinpath(filename).read_text())
        found[crd["spec"]["names"]["kind"]] = crd
    return found


def crd(kind: str) -> dict[str, Any]:
    """The CustomResourceDefinition of `kind` (ApiRelease or LoadTest), as shipped."""
    return copy.deepcopy(_crds()[kind])


@functools.cache
def _schema(kind: str) -> dict[str, Any]:
    (version,) = _crds()[kind]["spec"]["versions"]
    return dict(version["schema"]["openAPIV3Schema"])


def schema_of(kind: str) -> dict[str, Any]:
    """The openAPIV3Schema of `kind`'s only version."""
    return copy.deepcopy(_schema(kind))


def with_defaults(schema: Mapping[str, Any], value: Any) -> Any:
    """`value` defaulted the way the API server does it: a missing field with a `default`
    gets it, then the defaults inside every object present (a defaulted one included)."""
    if isinstance(value, list) and "items" in schema:
        return [with_defaults(schema["items"], item) for item in value]
    if not isinstance(value, Mapping):
        return copy.deepcopy(value)
    result = {key: copy.deepcopy(item) for key, item in value.items()}
    for key, sub in (schema.get("properties") or {}).items():
        if key not in result and "default" in sub:
            result[key] = copy.deepcopy(sub["default"])
        if key in result:
            result[key] = with_defaults(sub, result[key])
    return result


def spec_with_defaults(kind: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    """`kind`'s spec with every default its CRD declares present."""
    return dict(with_defaults(_schema(kind)["properties"]["spec"], spec))
