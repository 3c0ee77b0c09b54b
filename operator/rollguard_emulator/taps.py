"""Taps on writes: count the writes a test cares about, or hold one after it was stored.

A held write is applied and published, but its response waits until the test
releases it. A client stopped in that moment has made the write and never
learned of it, which is how a test places a crash exactly between two writes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Tap:
    """Matches writes by action (CREATE, UPDATE, DELETE), plural, subresource and body (None: any)."""

    action: str | None = None
    plural: str | None = None
    subresource: str | None = None
    when: Callable[[Any], bool] | None = None
    hold: bool = False
    hits: int = 0
    reached: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def matches(self, action: str | None, plural: str | None, subresource: str | None, body: Any) -> bool:
        return (
            (self.action is None or self.action == action)
            and (self.plural is None or self.plural == plural)
            and (self.subresource is None or self.subresource == subresource)
            and (self.when is None or bool(self.when(body)))
        )

    def release(self) -> None:
        """Let held responses go, and hold no more."""
        self.hold = False
        self.released.set()
