"""`manage.py seed_demo`: demo tenants and data; prints one fresh token per tenant as JSON."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing.demo import seed_demo


class Command(BaseCommand):
    help = "Create (or top up) two demo tenants with users, payers, patients and claims."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--claims", type=int, default=2000, help="claims per tenant (default 2000)")
        parser.add_argument("--patients", type=int, default=200, help="patients per tenant (default 200)")
        parser.add_argument(
            "--password",
            default=os.environ.get("DEMO_PASSWORD", "rollguard-demo"),
            help="password of every demo user (default: $DEMO_PASSWORD or rollguard-demo)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["patients"] < 1 or options["claims"] < 0:
            raise CommandError("--patients must be at least 1 and --claims at least 0.")
        tenants = seed_demo(
            claims=options["claims"], patients=options["patients"], password=options["password"]
        )
        self.stdout.write(json.dumps({"tenants": [asdict(t) for t in tenants]}))
