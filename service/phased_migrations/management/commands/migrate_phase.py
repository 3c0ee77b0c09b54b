"""`manage.py migrate_phase {plan|lint|expand|contract|status} [--json]`.

Exit status: 0 success; 2 unsafe SQL found by lint, or expand would need a
contract migration; 3 another migrate_phase held the database's migration lock
for longer than --lock-wait; 1 any other failure. With --json the last line of
stdout is one JSON object for the operator.

lint, expand and contract hold a PostgreSQL advisory lock (session level, on
the migration connection) for the whole phase, so that two revisions'
migrations never run at once; a second one waits for it, at most --lock-wait.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Iterator
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connections

from phased_migrations import graph as migration_graph
from phased_migrations.apply import Applied, Timeouts, apply_one
from phased_migrations.lint import lint_all
from phased_migrations.markers import Phase
from phased_migrations.planning import Entry, plan_expand

OK, FAILED, UNSAFE, LOCKED = 0, 1, 2, 3
# The advisory lock key of every migrate_phase run (advisory locks are per database).
LOCK_KEY = 0x726F6C6C67756172  # "rollguar"
LOCKED_PHASES = ("lint", "expand", "contract")


class Outcome(Exception):
    """Ends a phase early with an exit status and a message."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class Command(BaseCommand):
    help = "Run or inspect migrations in two phases: expand before a rollout, contract after it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("phase", choices=["plan", "lint", "expand", "contract", "status"])
        parser.add_argument("--json", action="store_true", help="end stdout with one JSON object")
        parser.add_argument("--database", default="default")
        parser.add_argument("--lock-timeout", default="5s", help="lock_timeout of every DDL session (5s)")
        parser.add_argument("--statement-timeout", default="30min", help="statement_timeout (30min)")
        parser.add_argument("--retries", type=int, default=5, help="retries after a lock timeout (5)")
        parser.add_argument(
            "--backoff", type=float, default=1.0, help="first retry delay in seconds, doubled each time"
        )
        parser.add_argument(
            "--lock-wait",
            type=float,
            default=300.0,
            help="seconds to wait for another migrate_phase's lock before exit 3 (300)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.options = options
        self.report: dict[str, Any] = {"command": options["phase"]}
        started = time.monotonic()
        code, error = OK, None
        try:
            with self._migration_lock():
                self.graph = migration_graph.load(options["database"])
                getattr(self, f"phase_{options['phase']}")()
        except Outcome as exc:
            code, error = exc.code, str(exc)
        except Exception as exc:
            code, error = FAILED, f"{type(exc).__name__}: {exc}"
        self.report.update(ok=code == OK, exitCode=code, seconds=round(time.monotonic() - started, 3))
        if error:
            self.report["error"] = error
            self.stderr.write(error)
        if options["json"]:
            self.stdout.write(json.dumps(self.report, default=str))
        if code:
            sys.exit(code)

    @contextlib.contextmanager
    def _migration_lock(self) -> Iterator[None]:
        """Hold the migration advisory lock for the phase; wait at most --lock-wait for it.

        The lock lives on a session of its own, so that reconnecting the migration connection
        (after a lock timeout, say) never drops it; the process ending releases it."""
        if self.options["phase"] not in LOCKED_PHASES:
            yield
            return
        wrapper = connections[self.options["database"]]
        session = wrapper.get_new_connection(wrapper.get_connection_params())
        session.autocommit = True
        try:
            waited = time.monotonic()
            deadline = waited + self.options["lock_wait"]
            while not session.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY]).fetchone()[0]:
                if time.monotonic() >= deadline:
                    raise Outcome(
                        LOCKED,
                        "another migrate_phase holds the migration lock of this database "
                        f"(pg_advisory_lock({LOCK_KEY})); gave up after {self.options['lock_wait']:g}s. "
                        "Wait for the other revision's migration Job to finish, then run again.",
                    )
                time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
            self.report["lockWaitSeconds"] = round(time.monotonic() - waited, 3)
            yield
        finally:
            session.close()

    def say(self, line: str) -> None:
        if not self.options["json"]:
            self.stdout.write(line)

    def _refuse_unclassifiable(self) -> None:
        refused = [self.graph.refusals[e.key] for e in self.graph.unapplied if e.key in self.graph.refusals]
        if refused:
            self.report["refused"] = refused
            raise Outcome(FAILED, "\n".join(refused))

    def _list(self, entries: list[Entry], title: str) -> None:
        self.say(f"{title}:" if entries else f"{title}: none")
        for entry in entries:
            phase = "refused" if entry.key in self.graph.refusals else entry.phase
            self.say(f"  {phase:<8}  {entry.label}  ({entry.reason})")

    def phase_plan(self) -> None:
        unapplied = self.graph.unapplied
        self.report["migrations"] = [
            {**e.as_json(), "refused": e.key in self.graph.refusals} for e in unapplied
        ]
        self._list(unapplied, "Unapplied migrations")
        self._refuse_unclassifiable()

    def phase_status(self) -> None:
        summary: dict[str, dict[str, int]] = {str(p): {"applied": 0, "unapplied": 0} for p in Phase}
        rows = []
        for entry in self.graph.entries:
            summary[str(entry.phase)]["applied" if entry.applied else "unapplied"] += 1
            rows.append({**entry.as_json(), "applied": entry.applied})
        self.report.update(summary=summary, migrations=rows)
        for phase in Phase:
            counts = summary[str(phase)]
            self.say(f"{phase}: {counts['applied']} applied, {counts['unapplied']} unapplied")
            for entry in self.graph.entries:
                if entry.phase is phase and not entry.applied:
                    self.say(f"  [ ] {entry.label}  ({entry.reason})")

    def phase_lint(self) -> None:
        self._refuse_unclassifiable()
        unapplied = self.graph.unapplied
        violations = lint_all(unapplied, self.options["database"])
        self.report["migrations"] = [e.as_json() for e in unapplied]
        self.report["violations"] = [v.as_json() for v in violations]
        for v in violations:
            self.say(f"{v.level}: {v.migration} ({v.phase}) [{v.rule}] {v.message}\n    {v.statement}")
        errors = [v for v in violations if v.level == "error"]
        self.say(
            f"{len(unapplied)} migrations linted: "
            f"{len(errors)} errors, {len(violations) - len(errors)} warnings"
        )
        if errors:
            names = sorted({f"{v.migration} [{v.rule}]" for v in errors})
            raise Outcome(UNSAFE, "unsafe SQL: " + ", ".join(names))

    def phase_expand(self) -> None:
        self._refuse_unclassifiable()
        plan = plan_expand(self.graph.unapplied, self.graph.parents)
        if plan.blocked:
            self.report["blocked"] = [
                {"app": app, "name": name, "needs": [".".join(k) for k in needs]}
                for (app, name), needs in plan.blocked.items()
            ]
            lines = [
                f"{app}.{name} needs {', '.join('.'.join(k) for k in needs)}"
                for (app, name), needs in plan.blocked.items()
            ]
            raise Outcome(
                UNSAFE,
                "expand would need unapplied contract migrations; nothing was applied: "
                + "; ".join(lines)
                + ". Run `migrate_phase contract` once the release that needs them is fully rolled out.",
            )
        self._apply(plan.apply)

    def phase_contract(self) -> None:
        self._refuse_unclassifiable()
        self._apply(self.graph.unapplied)

    def _apply(self, entries: list[Entry]) -> None:
        opts = self.options
        timeouts = Timeouts(lock=opts["lock_timeout"], statement=opts["statement_timeout"])
        done: list[Applied] = []
        self.report.update(applied=[], timeouts={"lock": timeouts.lock, "statement": timeouts.statement})
        self.say(
            f"Applying {len(entries)} migrations "
            f"(lock_timeout={timeouts.lock}, statement_timeout={timeouts.statement})"
        )
        for entry in entries:
            self.say(f"  {entry.phase:<8}  {entry.label} ...")
            result = apply_one(
                entry,
                database=opts["database"],
                timeouts=timeouts,
                retries=opts["retries"],
                backoff=opts["backoff"],
                log=self.say,
            )
            done.append(result)
            self.report["applied"] = [a.as_json() for a in done]
            self.say(f"    done in {result.seconds:.2f}s ({result.attempts} attempt(s))")
