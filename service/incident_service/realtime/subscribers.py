"""One subscriber: a bounded queue between the broker and a subscription."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

from incident_service.observability import metrics

T = TypeVar("T")

#: Websocket close codes of the realtime layer (docs/realtime.md lists them).
TOO_SLOW = (4008, "subscriber too slow")
SHUTDOWN = (1001, "server shutting down")


class SubscriberTooSlow(Exception):
    """The subscriber fell further behind than its queue bound and was dropped."""


class Subscriber(Generic[T]):
    """Receives items from the broker without ever blocking it.

    The broker calls `offer` synchronously for every item; when the queue is
    full the subscriber is marked overflowed, its queue is emptied (memory stays
    bounded however slow the client is) and `on_overflow` is called once, which
    for a websocket closes the connection with TOO_SLOW.
    """

    def __init__(
        self,
        maxsize: int,
        on_overflow: Callable[[], None] | None = None,
        accepts: Callable[[T], bool] | None = None,
    ) -> None:
        self._queue: asyncio.Queue[T] = asyncio.Queue(maxsize)
        self._on_overflow = on_overflow
        self.accepts = accepts
        self.overflowed = False
        #: On overflow the connection is closed (by on_overflow), not just this subscription.
        self.closes_connection = on_overflow is not None

    def offer(self, item: T) -> None:
        if self.overflowed:
            return
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self.overflowed = True
            metrics.SUBSCRIBERS_DROPPED.inc()
            while not self._queue.empty():
                self._queue.get_nowait()
            if self._on_overflow is not None:
                self._on_overflow()

    async def get(self) -> T:
        if self.overflowed:
            raise SubscriberTooSlow
        return await self._queue.get()

    @property
    def backlog(self) -> int:
        return self._queue.qsize()
