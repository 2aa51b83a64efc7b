"""A broadcast subscription event is executed and encoded once for all subscribers."""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import AsyncGenerator

import strawberry
from graphql.execution.collect_fields import FieldDetails
from strawberry.extensions import MaskErrors, SchemaExtension

from incident_service.api.subscriptions.shared_execution import (
    SharedEventExecutor,
    SharedEventSchema,
)


@strawberry.type
class Page:
    SHARED_EVENT = True
    value: int
    label: str


@strawberry.type
class Private:
    value: int


PAGE = Page(value=7, label='é "quoted"')


@strawberry.type
class Query:
    ok: bool = True


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def page(self) -> AsyncGenerator[Page, None]:
        yield PAGE

    @strawberry.subscription
    async def private(self) -> AsyncGenerator[Private, None]:
        yield Private(value=1)


schema = SharedEventSchema(
    query=Query, subscription=Subscription, execution_context_class=SharedEventExecutor
)


async def _first(query: str, variables: dict | None = None) -> object:
    stream = await schema.subscribe(query, variable_values=variables)
    async for result in stream:  # type: ignore[union-attr]
        return result
    raise AssertionError("no result")


def test_same_operation_shares_one_result_and_others_do_not() -> None:
    async def scenario() -> None:
        a = await _first("subscription { page { value label } }")
        b = await _first("subscription { page { value label } }")
        c = await _first("subscription { page { value } }")
        assert a.data == b.data == {"page": {"value": 7, "label": 'é "quoted"'}}  # type: ignore[attr-defined]
        assert a.data is b.data  # type: ignore[attr-defined]
        assert c.data == {"page": {"value": 7}}  # type: ignore[attr-defined]
        p1 = await _first("subscription { private { value } }")
        p2 = await _first("subscription { private { value } }")
        assert p1.data == p2.data and p1.data is not p2.data  # type: ignore[attr-defined]

        shared = {"id": "op-1", "type": "next", "payload": {"data": a.data}}  # type: ignore[attr-defined]
        encoded = schema.shared_events.encode_message(shared)
        assert encoded is not None and json.loads(encoded) == shared
        legacy = {"type": "data", "id": "op-2", "payload": {"data": a.data}}  # type: ignore[attr-defined]
        encoded = schema.shared_events.encode_message(legacy)
        assert encoded is not None and json.loads(encoded) == legacy
        assert list(json.loads(encoded)) == ["type", "id", "payload"]
        # Anything else is left to the normal encoder.
        assert (
            schema.shared_events.encode_message(
                {"id": "x", "type": "next", "payload": {"data": {"page": 1}}}
            )
            is None
        )
        assert schema.shared_events.encode_message({"data": a.data}) is None  # type: ignore[attr-defined]

    asyncio.run(scenario())


class Broken(Exception):
    pass


@strawberry.type
class BadPage:
    SHARED_EVENT = True

    @strawberry.field
    def value(self) -> int:
        raise Broken("secret detail")


@strawberry.type
class HookedSubscription(Subscription):
    @strawberry.subscription
    async def bad_page(self) -> AsyncGenerator[BadPage, None]:
        yield BadPage()


seen_results: list[object] = []


class SeesStreamResults(SchemaExtension):
    def on_stream_result(self, result: object):  # type: ignore[no-untyped-def]
        seen_results.append(result)
        yield

    def get_results(self) -> dict[str, object]:
        return {"seen": len(seen_results)}


hooked = SharedEventSchema(
    query=Query,
    subscription=HookedSubscription,
    execution_context_class=SharedEventExecutor,
    extensions=[SeesStreamResults, MaskErrors],
)


def test_extension_hooks_skip_only_shared_results_without_errors() -> None:
    async def first(query: str) -> object:
        stream = await hooked.subscribe(query)
        async for result in stream:  # type: ignore[union-attr]
            return result
        raise AssertionError("no result")

    async def scenario() -> None:
        seen_results.clear()
        shared = [await first("subscription { page { value } }") for _ in range(2)]
        # Both got the one shared result, and no hook ran for either.
        assert shared[0].data is shared[1].data  # type: ignore[attr-defined]
        assert seen_results == []
        private = await first("subscription { private { value } }")
        assert seen_results == [private]
        bad = await first("subscription { badPage { value } }")
        assert seen_results[-1] is bad
        assert [e.message for e in bad.errors] == ["Unexpected error."]  # type: ignore[attr-defined]
        # Extension results are still collected (before the result's hooks run).
        assert bad.extensions == {"seen": 1}  # type: ignore[attr-defined]

    asyncio.run(scenario())


@strawberry.type
class Inner:
    value: int


@strawberry.type
class Outer:
    inner: Inner


@strawberry.type
class LongSubscription(Subscription):
    @strawberry.subscription
    async def outer(self, events: int) -> AsyncGenerator[Outer, None]:
        for n in range(events):
            yield Outer(inner=Inner(value=n))


long_schema = SharedEventSchema(
    query=Query, subscription=LongSubscription, execution_context_class=SharedEventExecutor
)


def _live_field_details() -> int:
    gc.collect()
    # By type, not isinstance: isinstance asks a dead weakref.proxy for its __class__,
    # which raises ReferenceError (the suite's other tests leave some behind).
    return sum(issubclass(type(o), FieldDetails) for o in gc.get_objects())


def test_a_long_subscription_keeps_nothing_per_event() -> None:
    """Each event's executor once shared a memo that kept every event's field lists:
    memory grew with every event for the life of a subscription (the soak test)."""

    async def live_after(events: int) -> int:
        stream = await long_schema.subscribe(
            "subscription($n: Int!) { outer(events: $n) { inner { value } } }",
            variable_values={"n": events},
        )
        seen = 0
        async for result in stream:  # type: ignore[union-attr]
            assert result.data == {"outer": {"inner": {"value": seen}}}  # type: ignore[union-attr]
            seen += 1
            if seen == events:
                count = _live_field_details()
        assert seen == events
        return count

    few, many = asyncio.run(live_after(10)), asyncio.run(live_after(500))
    assert many <= few + 10, (few, many)
