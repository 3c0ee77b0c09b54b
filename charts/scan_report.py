"""checkov on the rendered charts, judged against charts/checkov-allowlist.yaml.

`make charts-scan` renders each chart with its default values, and a chart
made by `helm create demo` for comparison, scans them all in one checkov run
(its start-up dominates the time) and prints passed/failed/skipped per chart.
It exits 1 when a chart has a finding the allow-list does not explain.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Finding:
    check_id: str
    resource: str
    file: str


@dataclass(frozen=True)
class AllowEntry:
    check: str
    resources: tuple[str, ...]
    why: str

    def explains(self, finding: Finding) -> bool:
        return finding.check_id == self.check and any(
            fnmatch.fnmatchcase(finding.resource, pattern) for pattern in self.resources
        )


@dataclass(frozen=True)
class Scan:
    """One checkov run: its failed checks and the passed/failed/skipped counts per file."""

    findings: tuple[Finding, ...]
    counts: dict[str, Counter[str]]


def load_allowlist(path: Path) -> list[AllowEntry]:
    entries = []
    for raw in yaml.safe_load(path.read_text()) or []:
        why = str(raw.get("why", "")).strip()
        if not why:
            raise ValueError(f"{path}: the entry for {raw.get('check')} does not say why")
        entries.append(AllowEntry(raw["check"], tuple(raw.get("resources", ["*"])), why))
    return entries


def unexplained(findings: Iterable[Finding], allowlist: Sequence[AllowEntry]) -> list[Finding]:
    return [f for f in findings if not any(entry.explains(f) for entry in allowlist)]


def unused(allowlist: Sequence[AllowEntry], findings: Sequence[Finding]) -> list[AllowEntry]:
    return [entry for entry in allowlist if not any(entry.explains(f) for f in findings)]


def parse_report(report: object) -> Scan:
    """Read checkov's JSON output (one framework: an object; several: a list)."""
    runs = report if isinstance(report, list) else [report]
    findings: list[Finding] = []
    counts: dict[str, Counter[str]] = {}
    for run in runs:
        if not isinstance(run, dict) or "results" not in run:
            continue
        for outcome in ("passed", "failed", "skipped"):
            for check in run["results"].get(f"{outcome}_checks", []):
                file = check["file_path"].lstrip("/")
                counts.setdefault(file, Counter())[outcome] += 1
                if outcome == "failed":
                    findings.append(Finding(check["check_id"], check["resource"], file))
    return Scan(tuple(findings), counts)


def run_checkov(checkov: Path, directory: Path) -> Scan:
    """Scan every YAML file in `directory` as Kubernetes manifests, offline."""
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    result = subprocess.run(  # noqa: S603 (the pinned tool, our own arguments)
        [str(checkov), "--directory", str(directory), "--framework", "kubernetes", "--output", "json",
         "--compact", "--skip-download"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    if result.returncode not in (0, 1) or not result.stdout.strip():
        raise RuntimeError(f"checkov failed ({result.returncode}): {result.stderr[-2000:]}")
    return parse_report(json.loads(result.stdout))


def render(helm: Path, chart: Path, release: str, namespace: str) -> str:
    return subprocess.run(  # noqa: S603 (the pinned tool, our own arguments)
        [str(helm), "template", release, str(chart), "--namespace", namespace, "--include-crds"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--helm", type=Path, required=True)
    parser.add_argument("--checkov", type=Path, required=True)
    parser.add_argument("--allowlist", type=Path, required=True)
    parser.add_argument("charts", nargs="+", type=Path)
    args = parser.parse_args(argv)
    helm = args.helm.resolve()
    allowlist = load_allowlist(args.allowlist)
    with tempfile.TemporaryDirectory(prefix="charts-scan-") as tmp:
        out = Path(tmp) / "rendered"
        out.mkdir()
        for chart in args.charts:
            (out / f"{chart.name}.yaml").write_text(render(helm, chart, "scan", "scan"))
        subprocess.run([str(helm), "create", "demo"], cwd=tmp, check=True, capture_output=True)  # noqa: S603
        (out / "helm-create-demo.yaml").write_text(render(helm, Path(tmp) / "demo", "scan", "scan"))
        scan = run_checkov(args.checkov, out)
    print(f"{'chart':<22}{'passed':>8}{'failed':>8}{'skipped':>9}{'unexplained':>13}")
    bad = 0
    for file, counts in sorted(scan.counts.items()):
        name = file.removesuffix(".yaml")
        findings = [f for f in scan.findings if f.file == file]
        left = len(unexplained(findings, allowlist)) if name != "helm-create-demo" else "-"
        if isinstance(left, int):
            bad += left
        print(f"{name:<22}{counts['passed']:>8}{counts['failed']:>8}{counts['skipped']:>9}{left!s:>13}")
    for finding in unexplained((f for f in scan.findings if not f.file.startswith("helm-create")), allowlist):
        print(f"unexplained: {finding.check_id} {finding.resource} ({finding.file})", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
