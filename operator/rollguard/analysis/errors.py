"""What can go wrong in one measurement, by the phase it ends in."""

from __future__ import annotations


class NoData(Exception):
    """The provider answered, but with nothing to judge: the measurement is Inconclusive."""


class ProviderError(Exception):
    """The provider could not be asked or gave an answer that cannot be read: Error."""


class ConditionError(ValueError):
    """A success or failure condition that does not parse, or does not apply to the result: Error."""
