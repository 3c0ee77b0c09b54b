"""What the sandbox's Prometheus scrapes: file-based service discovery of the local API pods (pure).

Every pod with a container port named `metrics` is one target, its local
port on 127.0.0.1, labelled as a cluster's pod discovery would relabel it:
`namespace`, `pod` and `revision` (the pod's rollguard.dev/revision label),
so the chart's PromQL by revision works unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rollguard.builders.spec import REVISION_LABEL
from rollguard_sandbox.containers import METRICS_PORT_NAME


@dataclass(frozen=True)
class ScrapedPod:
    namespace: str
    name: str
    labels: Mapping[str, str]
    ports: Mapping[str, int]  # container port name and number (as text) -> local port


def file_sd_targets(pods: Iterable[ScrapedPod], host: str = "127.0.0.1") -> list[dict[str, object]]:
    """Prometheus' file_sd_configs content: one target group per pod that serves metrics."""
    groups: list[dict[str, object]] = []
    for pod in sorted(pods, key=lambda p: (p.namespace, p.name)):
        port = pod.ports.get(METRICS_PORT_NAME)
        if port is None:
            continue
        groups.append(
            {
                "targets": [f"{host}:{port}"],
                "labels": {
                    "namespace": pod.namespace,
                    "pod": pod.name,
                    "revision": pod.labels.get(REVISION_LABEL, ""),
                },
            }
        )
    return groups


def file_sd_text(pods: Iterable[ScrapedPod]) -> str:
    return json.dumps(file_sd_targets(pods), indent=1) + "\n"


def prometheus_config(targets_dir: str, scrape_seconds: float = 1.0) -> str:
    """A Prometheus configuration that scrapes the targets files of `targets_dir` every second."""
    return (
        f"global: {{scrape_interval: {scrape_seconds:g}s, scrape_timeout: {scrape_seconds:g}s,"
        f" evaluation_interval: {scrape_seconds:g}s}}\n"
        "scrape_configs:\n"
        "  - job_name: claims-api\n"
        f"    file_sd_configs: [{{files: ['{targets_dir}/*.json'], refresh_interval: 1s}}]\n"
    )
