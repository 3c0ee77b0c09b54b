"""The local sandbox: the whole release pipeline on one machine (`make demo`)."""

from rollguard_sandbox.cli import main

__all__ = ["main"]
