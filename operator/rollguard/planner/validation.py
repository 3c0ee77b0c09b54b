"""What makes a release spec unworkable beyond what the CRD schema can refuse."""

from __future__ import annotations

from typing import Any

from rollguard.builders.spec import api_container


def spec_problem(spec: dict[str, Any]) -> str | None:
    """What the CRD schema cannot catch but makes the spec unworkable, or None."""
    template = spec.get("template") or {}
    containers = [c.get("name") for c in template.get("spec", {}).get("containers") or []]
    if not containers:
        return "spec.template.spec.containers is empty"
    name = spec.get("containerName")
    if name and api_container(template, name) is None:
        listed = ", ".join(containers)
        return f"containerName {name!r} is not a container of spec.template (containers: {listed})"
    if spec["loadTest"]["enabled"] and not spec.get("service"):
        return "spec.loadTest needs spec.service: the load test targets the release's Service"
    if spec["loadTest"]["enabled"] and not spec["loadTest"].get("image"):
        return "spec.loadTest.image is required when the load test is enabled"
    steps = (spec["strategy"].get("canary") or {}).get("steps") or []
    load_tested = any(
        "loadTest" in (metric.get("provider") or {})
        for step in steps
        for metric in (step.get("analysis") or {}).get("metrics") or []
    )
    if load_tested and not (spec.get("service") and spec["loadTest"].get("image")):
        return "a loadTest analysis needs spec.service and spec.loadTest.image (its load test's settings)"
    return None
