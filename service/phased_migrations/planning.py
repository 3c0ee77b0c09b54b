"""Which unapplied migrations each phase may apply. Pure: keys, phases and edges in, lists out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from phased_migrations.markers import Phase

Key = tuple[str, str]


@dataclass(frozen=True)
class Entry:
    """One migration as the plan sees it."""

    app: str
    name: str
    phase: Phase
    reason: str
    applied: bool = False

    @property
    def key(self) -> Key:
        return (self.app, self.name)

    @property
    def label(self) -> str:
        return f"{self.app}.{self.name}"

    def as_json(self) -> dict[str, object]:
        return {"app": self.app, "name": self.name, "phase": str(self.phase), "reason": self.reason}


@dataclass(frozen=True)
class ExpandPlan:
    apply: list[Entry]
    # expand migration -> the unapplied contract migrations it depends on
    blocked: dict[Key, list[Key]]


def _contract_ancestors(
    key: Key, parents: Mapping[Key, Sequence[Key]], unapplied: Mapping[Key, Entry], memo: dict[Key, set[Key]]
) -> set[Key]:
    if key in memo:
        return memo[key]
    found: set[Key] = set()
    for parent in parents.get(key, ()):
        if parent not in unapplied:
            continue
        if unapplied[parent].phase is Phase.CONTRACT:
            found.add(parent)
        found |= _contract_ancestors(parent, parents, unapplied, memo)
    memo[key] = found
    return found


def plan_expand(unapplied: Sequence[Entry], parents: Mapping[Key, Sequence[Key]]) -> ExpandPlan:
    """The expand migrations in order; any of them that needs an unapplied contract migration blocks.

    `unapplied` is in the order Django would apply it; `parents` maps a
    migration to its direct dependencies.
    """
    by_key = {entry.key: entry for entry in unapplied}
    memo: dict[Key, set[Key]] = {}
    apply: list[Entry] = []
    blocked: dict[Key, list[Key]] = {}
    for entry in unapplied:
        if entry.phase is not Phase.EXPAND:
            continue
        needs = _contract_ancestors(entry.key, parents, by_key, memo)
        if needs:
            blocked[entry.key] = sorted(needs)
        else:
            apply.append(entry)
    return ExpandPlan(apply=apply, blocked=blocked)
