"""Reading a Prometheus text exposition in the metrics tests."""

from __future__ import annotations

from collections import Counter

from prometheus_client.parser import text_string_to_metric_families


def samples(text: str, name: str) -> Counter[tuple[tuple[str, str], ...]]:
    """The values of the samples called `name`, by their sorted labels."""
    values: Counter[tuple[tuple[str, str], ...]] = Counter()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                values[tuple(sorted(sample.labels.items()))] += sample.value
    return values


def grew(before: Counter, after: Counter) -> dict[tuple[tuple[str, str], ...], float]:
    """The series that grew between two scrapes, with how much."""
    return {key: after[key] - before[key] for key in after if after[key] != before[key]}
