"""The one retry rhythm of the realtime layer: short at first, doubling to a ceiling.

A reconnect after a blip should be quick, a database that stays down must
not be hammered, and the first success resets the rhythm.
"""

from __future__ import annotations

import asyncio

FIRST = 0.1
CEILING = 5.0


class Backoff:
    def __init__(self, first: float = FIRST, ceiling: float = CEILING) -> None:
        self.first = first
        self.ceiling = ceiling
        self.delay = first

    def reset(self) -> None:
        """Call after a success: the next failure is retried quickly again."""
        self.delay = self.first

    async def wait(self) -> None:
        """Sleep before the next attempt; each wait doubles the next, up to the ceiling."""
        await asyncio.sleep(self.delay)
        self.delay = min(self.delay * 2, self.ceiling)
