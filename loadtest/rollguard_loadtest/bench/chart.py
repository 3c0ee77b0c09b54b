"""The benchmark chart: latency and throughput per endpoint, as a PNG."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def write_chart(compared: list[dict[str, Any]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [row["label"].replace(" (floor)", "\n(floor)") for row in compared]
    positions = range(len(compared))
    fig, (latency, throughput, queries) = plt.subplots(1, 3, figsize=(17, 5))
    width = 0.4
    latency.bar([p - width / 2 for p in positions], [r["p50_ms"] for r in compared], width, label="p50")
    latency.bar([p + width / 2 for p in positions], [r["p95_ms"] for r in compared], width, label="p95")
    latency.set_ylabel("milliseconds")
    latency.set_title("latency")
    latency.legend()
    bars = throughput.bar(list(positions), [r["rps"] for r in compared], color="tab:green")
    throughput.bar_label(bars, [_ratio_label(r["rps_x_floor"]) for r in compared])
    throughput.set_ylabel("requests per second")
    throughput.set_title("throughput (share of the floor)")
    sql = queries.bar(list(positions), [r["queries"] or 0 for r in compared], color="tab:purple")
    queries.bar_label(sql, [_number_label(r["queries"]) for r in compared])
    queries.set_ylabel("SQL statements per request")
    queries.set_title("SQL per request (pg_stat_statements)")
    for axis in (latency, throughput, queries):
        axis.set_xticks(list(positions), labels, rotation=20, ha="right", fontsize=8)
        axis.grid(axis="y", alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _ratio_label(ratio: float | None) -> str:
    return "" if ratio is None else f"{ratio:.0%}"


def _number_label(value: float | None) -> str:
    return "n/a" if value is None else f"{value:g}"
