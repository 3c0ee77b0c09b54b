"""A JSON Schema validator for the keywords the operator's contracts use, and no others.

The operator image carries kopf, aiohttp, prometheus-client and pyyaml only; the
contracts it reads (the load-test summary) are small, closed objects, so this
covers draft-07's type, enum, required, properties, additionalProperties: false,
items, the numeric bounds and the length bounds. A schema with any other keyword
is refused when it is checked, so a keyword is never silently ignored.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

ANNOTATIONS = frozenset({"$schema", "$id", "title", "description"})
KEYWORDS = ANNOTATIONS | {
    "type",
    "enum",
    "required",
    "properties",
    "additionalProperties",
    "items",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
}
_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


def check_schema(schema: Mapping[str, Any], path: str = "#") -> None:
    """Raise ValueError when `schema` uses a keyword this validator does not enforce."""
    unknown = set(schema) - KEYWORDS
    if unknown:
        raise ValueError(f"{path}: unsupported JSON Schema keywords {sorted(unknown)}")
    if schema.get("additionalProperties", False) is not False:
        raise ValueError(f"{path}: only additionalProperties: false is supported")
    for name, child in (schema.get("properties") or {}).items():
        check_schema(child, f"{path}/properties/{name}")
    if "items" in schema:
        check_schema(schema["items"], f"{path}/items")


def _is(value: Any, kind: str) -> bool:
    if isinstance(value, bool) and kind in ("integer", "number"):
        return False
    if kind == "number" and isinstance(value, float):
        return True
    return isinstance(value, _TYPES[kind])


def errors(schema: Mapping[str, Any], value: Any, path: str = "$") -> Iterator[str]:
    """Each way `value` breaks `schema`, as `path: what is wrong`."""
    kind = schema.get("type")
    if kind is not None and not _is(value, kind):
        yield f"{path}: {value!r} is not of type {kind}"
        return
    if "enum" in schema and value not in schema["enum"]:
        yield f"{path}: {value!r} is not one of {schema['enum']}"
    if _is(value, "number"):
        if "minimum" in schema and value < schema["minimum"]:
            yield f"{path}: {value} is below the minimum {schema['minimum']}"
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            yield f"{path}: {value} is not above {schema['exclusiveMinimum']}"
        if "maximum" in schema and value > schema["maximum"]:
            yield f"{path}: {value} is above the maximum {schema['maximum']}"
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            yield f"{path}: shorter than {schema['minLength']} characters"
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            yield f"{path}: longer than {schema['maxLength']} characters"
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            yield f"{path}: fewer than {schema['minItems']} items"
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            yield f"{path}: more than {schema['maxItems']} items"
        for index, item in enumerate(value):
            yield from errors(schema.get("items", {}), item, f"{path}[{index}]")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for name, item in value.items():
            if name in properties:
                yield from errors(properties[name], item, f"{path}.{name}")
            elif schema.get("additionalProperties", True) is False:
                yield f"{path}: {name!r} is not a declared property"
        for name in schema.get("required", []):
            if name not in value:
                yield f"{path}: {name!r} is required"
