"""Linting the SQL of unapplied migrations with squawk.

The SQL is exactly what `sqlmigrate` prints, rendered on the migration graph,
so a migration that builds on another unapplied one renders correctly.
Deciding what a squawk finding means for each phase is pure (`judge`).
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlparse
from django.core.management import call_command

from phased_migrations.markers import Phase
from phased_migrations.planning import Entry

SQUAWK_CONFIG = Path(__file__).with_name(".squawk.toml")

# Findings about dropping or renaming things: that is what the contract phase
# is for, so there they are reported as warnings. Lock-related findings stay
# errors in both phases.
DESTRUCTIVE_RULES = frozenset(
    {
        "ban-drop-column",
        "ban-drop-table",
        "ban-drop-not-null",
        "ban-drop-constraint",
        "ban-drop-index",
        "ban-drop-default",
        "ban-drop-function",
        "renaming-column",
        "renaming-table",
    }
)


@dataclass(frozen=True)
class Violation:
    migration: str
    phase: Phase
    statement: str
    rule: str
    message: str
    level: str  # "error" blocks the release, "warning" is reported only

    def as_json(self) -> dict[str, str]:
        return {
            "migration": self.migration,
            "phase": str(self.phase),
            "statement": self.statement,
            "rule": self.rule,
            "message": self.message,
            "level": self.level,
        }


def squawk_binary() -> str:
    """The squawk next to this interpreter (the venv's), else the one on PATH."""
    beside = Path(sys.executable).with_name("squawk")
    found = str(beside) if beside.exists() else shutil.which("squawk")
    if not found:
        raise FileNotFoundError("squawk is not installed: `pip install squawk-cli`")
    return found


def render_sql(entry: Entry, database: str = "default") -> str:
    out = io.StringIO()
    call_command("sqlmigrate", entry.app, entry.name, database=database, stdout=out, no_color=True)
    return out.getvalue()


def run_squawk(sql: str) -> list[dict[str, Any]]:
    """squawk's JSON findings for one migration's SQL, under the app's configuration."""
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as handle:
        handle.write(sql)
    path = Path(handle.name)
    try:
        # Exit status 1 only means "found something"; the JSON says what.
        result = subprocess.run(  # noqa: S603 - fixed binary, our own temp file
            [squawk_binary(), "--config", str(SQUAWK_CONFIG), "--reporter", "json", str(path)],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
    finally:
        path.unlink(missing_ok=True)
    if result.returncode not in (0, 1) or not result.stdout.strip():
        if result.returncode == 0:
            return []
        raise RuntimeError(f"squawk failed ({result.returncode}): {result.stderr.strip()}")
    return list(json.loads(result.stdout))


def _offset(lines: list[str], line: int, column: int) -> int:
    return sum(len(text) for text in lines[:line]) + column


def statement_at(sql: str, line: int, column: int) -> str:
    """The whole SQL statement around a (0-based) line and column, without comments."""
    lines = sql.splitlines(keepends=True)
    target = _offset(lines, line, column)
    position = 0
    for statement in sqlparse.split(sql, strip_semicolon=False):
        start = sql.find(statement, position)
        end = start + len(statement)
        position = end
        if start <= target < end or target < start:
            return sqlparse.format(statement, strip_comments=True).strip()
    return sql.strip()


_CREATED_TABLE = re.compile(r'CREATE TABLE (?:IF NOT EXISTS )?"([^"]+)"', re.IGNORECASE)
_TOUCHED_TABLE = re.compile(
    r'\b(?:ALTER TABLE|DROP TABLE|ON|INTO|UPDATE|FROM)\s+(?:ONLY\s+|IF EXISTS\s+)?"([^"]+)"', re.IGNORECASE
)


def created_tables(sql: str) -> set[str]:
    return set(_CREATED_TABLE.findall(sql))


def judge(
    entry: Entry, sql: str, findings: list[dict[str, Any]], new_tables: frozenset[str] = frozenset()
) -> list[Violation]:
    """Violations of one migration.

    Errors block the release. Destructive rules only warn in a contract
    migration, and nothing a statement does to tables that an unapplied
    migration creates can block anyone: no release uses them yet.
    """
    violations = []
    for finding in findings:
        rule = str(finding.get("rule_name", ""))
        statement = statement_at(sql, int(finding.get("line", 0)), int(finding.get("column", 0)))
        message = str(finding.get("message", ""))
        if finding.get("help"):
            message += f" {finding['help']}"
        touched = set(_TOUCHED_TABLE.findall(statement))
        level = "error"
        if entry.phase is Phase.CONTRACT and rule in DESTRUCTIVE_RULES:
            level = "warning"
        elif touched and touched <= new_tables:
            level = "warning"
            message += " (The table is created by an unapplied migration, so nothing uses it yet.)"
        violations.append(Violation(entry.label, entry.phase, statement, rule, message, level))
    return violations


def lint_all(entries: list[Entry], database: str = "default") -> list[Violation]:
    """Lint every entry in plan order; tables created along the way count as new for later ones."""
    new_tables: set[str] = set()
    violations: list[Violation] = []
    for entry in entries:
        sql = render_sql(entry, database)
        new_tables |= created_tables(sql)
        violations += judge(entry, sql, run_squawk(sql), frozenset(new_tables))
    return violations
