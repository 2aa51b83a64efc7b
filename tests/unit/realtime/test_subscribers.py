"""A subscriber's bounded queue: everything in order, or dropped once on overflow."""

from __future__ import annotations

import asyncio

import pytest

from incident_service.realtime.subscribers import Subscriber, SubscriberTooSlow


def test_subscriber_overflow_drops_the_queue_and_calls_back_once() -> None:
    async def scenario() -> None:
        calls: list[str] = []
        sub: Subscriber[int] = Subscriber(3, on_overflow=lambda: calls.append("closed"))
        for n in range(3):
            sub.offer(n)
        assert await sub.get() == 0
        for n in range(3, 10):
            sub.offer(n)
        assert calls == ["closed"] and sub.overflowed and sub.backlog == 0
        with pytest.raises(SubscriberTooSlow):
            await sub.get()

    asyncio.run(scenario())


def test_subscriber_within_its_bound_gets_everything_in_order() -> None:
    async def scenario() -> None:
        sub: Subscriber[int] = Subscriber(2)
        got = []
        for n in range(10):
            sub.offer(n)
            got.append(await sub.get())
        assert got == list(range(10)) and not sub.overflowed

    asyncio.run(scenario())
