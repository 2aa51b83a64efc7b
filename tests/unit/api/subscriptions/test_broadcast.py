"""Parked status page subscribers: each new page once, the newest last, never an older one."""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from typing import Any

import strawberry
from strawberry.extensions import SchemaExtension

from incident_service.api.subscriptions.broadcast import Broadcast
from incident_service.api.subscriptions.shared_execution import (
    SharedEventExecutor,
    SharedEventSchema,
)
from incident_service.realtime.feeds import StatusPageFeed


@dataclass(frozen=True)
class DomainPage:
    value: int
    updated_at: int = 0


@strawberry.type
class Page:
    SHARED_EVENT = True
    value: int

    @strawberry.field
    def checked(self) -> int:
        if self.value < 0:
            raise ValueError("a broken page")
        return self.value


@strawberry.type
class Private:
    value: int


def build(page: DomainPage) -> Page:
    return Page(value=page.value)


@strawberry.type
class Query:
    ok: bool = True


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def page(self, info: strawberry.Info) -> AsyncGenerator[Page, None]:
        shared = info.schema.shared_events  # type: ignore[attr-defined]
        async for page in info.context["feed"].watch():
            yield shared.share(page, build)

    @strawberry.subscription
    async def private(self) -> AsyncGenerator[Private, None]:
        yield Private(value=1)


BOTH = "subscription { page { value checked } }"
VALUE = "subscription { page { value } }"


@dataclass(eq=False)
class FakeOperation:
    """What the broadcast uses of Strawberry's operation: its id and its send."""

    id: str
    sent: list[Any] = field(default_factory=list)
    gate: asyncio.Event | None = None

    async def send_operation_message(self, message: dict[str, Any]) -> None:
        assert message["id"] == self.id and message["type"] == "next"
        if self.gate is not None:
            await self.gate.wait()
        # Every page carries the operation's extensions, as its first one did.
        assert message["payload"]["extensions"] == {"cost": {"requested": 2}}
        self.sent.append(message["payload"]["data"]["page"])


class Costs(SchemaExtension):
    def get_results(self) -> dict[str, Any]:
        return {"cost": {"requested": 2}}


class Setup:
    def __init__(self) -> None:
        self.schema = SharedEventSchema(
            query=Query,
            subscription=Subscription,
            execution_context_class=SharedEventExecutor,
            extensions=[Costs],
        )
        self.current = DomainPage(1)
        self.build_failures = 0
        self.feed = StatusPageFeed(self._load)
        self.broadcast = Broadcast(self.schema.shared_events, self.feed, self._build)
        self.unparked: list[Any] = []
        self.ended: list[str] = []

    async def _load(self) -> DomainPage:
        return self.current

    def _build(self, page: DomainPage) -> Page:
        if self.build_failures:
            self.build_failures -= 1
            raise RuntimeError("a page that could not be built")
        return build(page)

    async def publish(self, value: int) -> None:
        self.current = DomainPage(value)
        await self.feed.refresh()

    async def park(
        self, query: str, op_id: str, gate: asyncio.Event | None = None
    ) -> FakeOperation:
        """Subscribe through Strawberry, take the first result, then park it."""
        stream = await self.schema.subscribe(query, context_value={"feed": self.feed})
        first = await stream.__anext__()  # type: ignore[union-attr]
        ticket = self.broadcast.ticket(first)
        assert ticket is not None
        await stream.aclose()  # type: ignore[union-attr]
        operation = FakeOperation(op_id, gate=gate)
        end = functools.partial(self.ended.append, op_id)
        self.broadcast.park(operation, ticket, self.unparked.append, end)  # type: ignore[arg-type]
        return operation


async def settled(done: Callable[[], bool] = lambda: False) -> None:
    """Let every task run until `done()` or nothing is left to run."""
    for _ in range(200):
        if done():
            return
        await asyncio.sleep(0)


async def eventually(done: Callable[[], bool], timeout: float = 5) -> None:
    async def poll() -> None:
        while not done():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout)


def run(scenario: Callable[[Setup], Any]) -> None:
    async def main() -> None:
        setup = Setup()
        try:
            await scenario(setup)
        finally:
            await setup.broadcast.stop()

    asyncio.run(main())


def test_each_new_page_once_per_operation_and_never_the_first_again() -> None:
    async def scenario(s: Setup) -> None:
        a = await s.park(BOTH, "a")
        b = await s.park(BOTH, "b")
        c = await s.park(VALUE, "c")
        await settled()
        assert a.sent == b.sent == c.sent == []
        await s.publish(2)
        await settled(lambda: len(c.sent) == 1)
        await s.publish(3)
        await settled()
        assert a.sent == b.sent == [{"value": 2, "checked": 2}, {"value": 3, "checked": 3}]
        assert c.sent == [{"value": 2}, {"value": 3}]
        assert len(s.broadcast) == 3

    run(scenario)


def test_a_result_that_is_not_shared_is_not_parked() -> None:
    async def scenario(s: Setup) -> None:
        stream = await s.schema.subscribe("subscription { private { value } }")
        first = await stream.__anext__()  # type: ignore[union-attr]
        assert first.data == {"private": {"value": 1}}
        assert s.broadcast.ticket(first) is None

    run(scenario)


def test_a_slow_reader_gets_the_newest_page_last_and_skips_the_rest() -> None:
    async def scenario(s: Setup) -> None:
        gate = asyncio.Event()
        slow = await s.park(VALUE, "slow", gate)
        quick = await s.park(VALUE, "quick")
        await s.publish(2)
        await settled(lambda: len(quick.sent) == 1)
        await s.publish(3)
        await settled(lambda: len(quick.sent) == 2)
        await s.publish(4)
        await settled(lambda: len(quick.sent) == 3)
        assert quick.sent == [{"value": 2}, {"value": 3}, {"value": 4}]
        assert slow.sent == []  # still sending page 2
        gate.set()
        await settled(lambda: len(slow.sent) == 2)
        await settled()
        assert slow.sent == [{"value": 2}, {"value": 4}]

    run(scenario)


def test_a_subscriber_whose_first_page_is_old_catches_up_and_never_goes_back() -> None:
    async def scenario(s: Setup) -> None:
        early = await s.park(VALUE, "early")
        await s.publish(2)
        await settled(lambda: len(early.sent) == 1)
        # Its first result is of page 2; page 3 is published before it is parked.
        stream = await s.schema.subscribe(VALUE, context_value={"feed": s.feed})
        first = await stream.__anext__()  # type: ignore[union-attr]
        assert first.data == {"page": {"value": 2}}
        ticket = s.broadcast.ticket(first)
        await stream.aclose()  # type: ignore[union-attr]
        assert ticket is not None
        await s.publish(3)
        late = FakeOperation("late")
        s.broadcast.park(late, ticket, s.unparked.append, lambda: None)  # type: ignore[arg-type]
        await settled(lambda: len(late.sent) == 1)
        assert late.sent == [{"value": 3}]
        await s.publish(4)
        await settled(lambda: len(late.sent) == 2 and len(early.sent) == 3)
        await settled()
        assert late.sent == [{"value": 3}, {"value": 4}]
        assert early.sent == [{"value": 2}, {"value": 3}, {"value": 4}]

    run(scenario)


def test_an_operation_that_left_gets_nothing_and_the_last_one_stops_the_watch() -> None:
    async def scenario(s: Setup) -> None:
        gone = await s.park(VALUE, "gone")
        stays = await s.park(VALUE, "stays")
        await settled(lambda: s.feed.watchers == 1)
        s.broadcast.leave(gone)  # type: ignore[arg-type]
        assert s.ended == ["gone"]
        s.broadcast.leave(gone)  # type: ignore[arg-type]
        assert s.ended == ["gone"]  # its end counted once
        await s.publish(2)
        await settled(lambda: len(stays.sent) == 1)
        assert gone.sent == [] and stays.sent == [{"value": 2}]
        s.broadcast.leave(stays)  # type: ignore[arg-type]
        await settled(lambda: s.feed.watchers == 0)
        assert s.feed.watchers == 0 and len(s.broadcast) == 0
        assert s.ended == ["gone", "stays"]

    run(scenario)


def test_a_result_with_errors_is_handed_back_to_strawberry_not_sent() -> None:
    async def scenario(s: Setup) -> None:
        broken = await s.park(BOTH, "broken")
        fine = await s.park(VALUE, "fine")
        await s.publish(-1)
        await settled(lambda: len(fine.sent) == 1 and s.unparked == [broken])
        assert s.unparked == [broken]
        assert broken.sent == []
        assert fine.sent == [{"value": -1}]
        assert len(s.broadcast) == 1

    run(scenario)


REQUEST = contextvars.ContextVar[str | None]("request", default=None)


def test_nothing_the_broadcast_runs_sees_the_context_of_the_subscription_that_parked() -> None:
    async def scenario(s: Setup) -> None:
        seen: list[str | None] = []

        async def park_in_its_task() -> None:
            REQUEST.set("the first subscriber's request")
            operation = await s.park(BOTH, "broken")
            s.unparked.clear()
            s.broadcast.leave(operation)  # type: ignore[arg-type]
            stream = await s.schema.subscribe(BOTH, context_value={"feed": s.feed})
            ticket = s.broadcast.ticket(await stream.__anext__())  # type: ignore[union-attr]
            await stream.aclose()  # type: ignore[union-attr]
            assert ticket is not None
            unpark = lambda op: seen.append(REQUEST.get())  # noqa: E731
            s.broadcast.park(operation, ticket, unpark, lambda: None)  # type: ignore[arg-type]

        await asyncio.create_task(park_in_its_task())
        await s.publish(-1)
        await settled(lambda: bool(seen))
        assert seen == [None]

    run(scenario)


def test_a_failed_page_build_is_retried_and_parked_subscribers_go_on() -> None:
    async def scenario(s: Setup) -> None:
        waiting = await s.park(VALUE, "waiting")
        s.build_failures = 1
        await s.publish(2)
        await eventually(lambda: len(waiting.sent) == 1)
        assert s.build_failures == 0  # it failed once, and was built again
        await s.publish(3)
        await eventually(lambda: len(waiting.sent) == 2)
        assert waiting.sent == [{"value": 2}, {"value": 3}]
        assert s.feed.watchers == 1  # the failed watch let go of the feed

    run(scenario)
