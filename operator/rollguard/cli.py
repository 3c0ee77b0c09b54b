"""The `rollguard` command line."""

from __future__ import annotations


def main() -> int:
    raise SystemExit("rollguard: no command yet")
