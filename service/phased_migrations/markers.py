"""How a migration declares its phase.

A migration class may say ``phase = Phase.EXPAND`` (or ``Phase.CONTRACT``).
django-safemigrate's ``safe = Safe.before_deploy()`` / ``Safe.after_deploy()``
are honoured too, read by duck typing so that package stays optional.
"""

from __future__ import annotations

import enum
from typing import Any


class Phase(enum.StrEnum):
    """EXPAND runs before the new code rolls out; CONTRACT only once no old pod is left."""

    EXPAND = "expand"
    CONTRACT = "contract"


# django-safemigrate's `When` values mapped onto phases: ALWAYS is safe at any
# time, so it can go with the expand batch.
_SAFEMIGRATE_WHEN = {
    "before_deploy": Phase.EXPAND,
    "always": Phase.EXPAND,
    "after_deploy": Phase.CONTRACT,
}


def declared_phase(migration: Any) -> tuple[Phase, str] | None:
    """The phase a migration declares explicitly, with where it was declared, or None."""
    own = getattr(migration, "phase", None)
    if own is not None:
        return Phase(str(getattr(own, "value", own))), "declared by `phase` on the Migration class"
    safe = getattr(migration, "safe", None)
    when = getattr(getattr(safe, "when", None), "value", None)
    if when in _SAFEMIGRATE_WHEN:
        return _SAFEMIGRATE_WHEN[when], f"declared by django-safemigrate `Safe.{when}()`"
    return None
