"""The story's summary: a table for the terminal, the same as JSON, and a timeline picture."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rollguard_sandbox.prober import ProbeSample, ProbeTally
from rollguard_sandbox.story import ReleaseResult

PHASE_COLOURS = {
    "Pending": "#bdbdbd",
    "Linting": "#c6dbef",
    "Expanding": "#6baed6",
    "RollingOut": "#08519c",
    "Canary": "#9e9ac8",
    "Verifying": "#fdae6b",
    "Contracting": "#74c476",
    "Succeeded": "#006d2c",
    "RollingBack": "#fb6a4a",
    "RolledBack": "#a50f15",
    "Failed": "#67000d",
    "Blocked": "#756bb1",
}


def _load_test(result: ReleaseResult) -> str:
    test = result.load_test
    if not test or "p95Ms" not in test:
        return test.get("phase", "-") if test else "-"
    return f"{test.get('phase', '?')} p95 {test['p95Ms']} ms, err {test.get('errorRatePercent', 0)}%"


def _rollback(result: ReleaseResult) -> str:
    rollback = result.rollback
    if not rollback:
        return "-"
    return (
        f"{rollback.get('reason', '?')}: detected {rollback.get('detectionSeconds', '?')} s,"
        f" recovered {rollback.get('recoverySeconds', '?')} s"
    )


def _phases(result: ReleaseResult) -> str:
    return " > ".join(
        f"{span.phase} {span.seconds:g}s" for span in result.spans if span.phase != result.phase
    )


def _prober(result: ReleaseResult) -> str:
    if not result.prober:
        return "-"
    text = f"{result.prober['failures']}/{result.prober['requests']} failed"
    if result.exposure.get("served"):
        text += f", {result.exposure['failedPercent']}% by the bad revision"
    return text


def table(results: Sequence[ReleaseResult]) -> str:
    """One line per release plus its phase timings, for a terminal 110 columns wide."""
    header = ("release", "strategy", "expected", "final", "time", "load test", "rollback", "prober")
    rows = [
        (
            result.name,
            result.strategy,
            result.expected,
            result.phase + ("" if result.ok else " !"),
            f"{result.seconds:g}s",
            _load_test(result),
            _rollback(result),
            _prober(result),
        )
        for result in results
    ]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * width for width in widths))
    for result, row in zip(results, rows, strict=True):
        lines.append("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))
        lines.append(f"    phases: {_phases(result) or '-'}")
    return "\n".join(lines)


def summary(
    results: Sequence[ReleaseResult], samples: Sequence[ProbeSample], seconds: float
) -> dict[str, Any]:
    tally = ProbeTally.of(list(samples))
    failures = [
        {"at": round(s.at, 2), "path": s.path, "status": s.status, "error": s.error, "revision": s.revision}
        for s in samples
        if not s.ok
    ]
    # A release that ships a broken build on purpose shows its failures; anywhere else one is a fault.
    excused = [(r.started, r.ended) for r in results if r.broken_build]
    unexpected = [s for s in samples if not s.ok and not any(start <= s.at < end for start, end in excused)]
    return {
        "ok": all(result.ok for result in results) and not unexpected,
        "seconds": round(seconds, 1),
        "releases": [result.to_json() for result in results],
        "prober": {
            "requests": tally.requests,
            "failures": tally.failures,
            "p95Ms": tally.p95_ms,
            "unexpectedFailures": len(unexpected),
            "failed": failures,
        },
    }


def write_json(path: Path, data: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def write_timeline(path: Path, results: Sequence[ReleaseResult], samples: Sequence[ProbeSample]) -> Path:
    """Phase bars per release above the prober's latencies, failed requests in red."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    fig, (phases_ax, probe_ax) = plt.subplots(
        2, 1, figsize=(12, 5.5), sharex=True, gridspec_kw={"height_ratios": [2, 1.3]}
    )
    for row, result in enumerate(results):
        for span in result.spans:
            end = span.end if span.end is not None and span.end > span.start else span.start + 0.4
            phases_ax.barh(
                row, end - span.start, left=span.start, color=PHASE_COLOURS.get(span.phase, "#999999")
            )
        phases_ax.text(result.ended + 0.5, row, result.phase, va="center", fontsize=8)
    phases_ax.set_yticks(range(len(results)), [result.name for result in results])
    phases_ax.set_ylim(len(results) - 0.5, -0.5)
    phases_ax.set_title("rollguard_sandbox: releases and what a client saw", pad=24)
    used = [phase for phase in PHASE_COLOURS if any(s.phase == phase for r in results for s in r.spans)]
    phases_ax.legend(
        handles=[Patch(color=PHASE_COLOURS[phase], label=phase) for phase in used],
        fontsize=7,
        ncol=max(1, len(used)),
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        frameon=False,
    )
    end = max([result.ended for result in results] + [sample.at for sample in samples] + [1.0])
    phases_ax.set_xlim(0, end * 1.1)

    good = [s for s in samples if s.ok]
    bad = [s for s in samples if not s.ok]
    probe_ax.scatter([s.at for s in good], [s.millis for s in good], s=4, color="#3182bd", label="ok")
    probe_ax.scatter(
        [s.at for s in bad], [max(s.millis, 1) for s in bad], s=16, color="#de2d26", label="failed"
    )
    probe_ax.set_ylabel("prober ms")
    probe_ax.set_xlabel("seconds since the sandbox started")
    probe_ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
