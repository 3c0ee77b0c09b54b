"""The local sandbox: the whole release pipeline on one machine (`rollguard sandbox`, `make demo`)."""

from rollguard.sandbox.cli import main

__all__ = ["main"]
