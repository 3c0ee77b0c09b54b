"""Print a load-test summary as a table: `python -m rollguard_loadtest.report SUMMARY.json`."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def render_rows(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A fixed-width text table; numbers align right, text aligns left."""
    cells = [[str(h) for h in headers], *[[_cell(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    numeric = [
        all(isinstance(row[i], int | float) for row in rows) and bool(rows) for i in range(len(headers))
    ]

    def line(row: Sequence[str]) -> str:
        return "  ".join(
            (c.rjust(w) if num else c.ljust(w)) for c, w, num in zip(row, widths, numeric, strict=True)
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])])


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}" if value < 100 else f"{value:.1f}"
    return str(value)


def render_summary(summary: Mapping[str, Any]) -> str:
    """The verdict, the totals against their thresholds and the worst endpoints."""
    limits = summary.get("thresholds", {})
    totals = render_rows(
        ["requests", "failures", "error %", "p50 ms", "p95 ms", "p99 ms", "req/s"],
        [
            [
                summary["requests"],
                summary["failures"],
                float(summary["errorRatePercent"]),
                summary["p50Ms"],
                summary["p95Ms"],
                summary["p99Ms"],
                float(summary["rps"]),
            ]
        ],
    )
    worst = render_rows(
        ["worst endpoints", "p95 ms", "failures"],
        [[w["name"], w["p95Ms"], w["failures"]] for w in summary.get("worst", [])],
    )
    verdict = f"verdict: {summary['verdict'].upper()}"
    verdict += f"  (thresholds: p95 {limits.get('p95Ms')} ms, errors {limits.get('errorRatePercent')}%)"
    lines = [verdict, *(f"  - {reason}" for reason in summary.get("reasons", [])), "", totals, "", worst]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m rollguard_loadtest.report SUMMARY.json", file=sys.stderr)
        return 2
    summary = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    print(render_summary(summary))
    return 0 if summary.get("verdict") == "passed" else 1


if __name__ == "__main__":
    sys.exit(main())
