"""`manage.py rollup_check`: the payer-summary rollup compared with a full aggregate of the claims."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS

from billing.selectors.rollup import rollup_report

SHOWN = 20


class Command(BaseCommand):
    help = (
        "Compare billing_claimrollup with a full aggregate of billing_claim (one scan of every claim, "
        "in one snapshot). Exit 0 when they agree, 1 when any (tenant, payer, service date) differs "
        "or the backfill has not finished. The last line of stdout is a JSON report."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="database alias (default: default)")
        parser.add_argument("--show", type=int, default=SHOWN, help=f"differences listed (default {SHOWN})")

    def handle(self, *args: Any, **options: Any) -> None:
        report = rollup_report(using=options["database"])
        summary = {
            "ok": report.backfilled and not report.differences,
            "keys": report.keys,
            "backfill": {"doneUpto": report.backfill_done_upto, "installMax": report.backfill_install_max},
            "differences": len(report.differences),
            "examples": [
                {
                    "customer": d.customer_id,
                    "payer": d.payer_id,
                    "serviceDate": d.service_date,
                    "actual": dict(
                        zip(("claims", "denied", "billed", "paid"), map(str, d.actual), strict=True)
                    ),
                    "rollup": dict(
                        zip(("claims", "denied", "billed", "paid"), map(str, d.kept), strict=True)
                    ),
                }
                for d in report.differences[: options["show"]]
            ],
        }
        self.stdout.write(json.dumps(summary))
        if not report.backfilled:
            raise CommandError(
                f"The rollup backfill stopped at claim id {report.backfill_done_upto} of "
                f"{report.backfill_install_max}: run `manage.py migrate_phase expand` to finish it."
            )
        if report.differences:
            raise CommandError(
                f"The rollup differs from the claims at {len(report.differences)} "
                "(tenant, payer, service date) keys (listed above)."
            )
