"""A broadcast subscription event is executed and encoded once for all subscribers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator

import strawberry

from incident_service.api.realtime.shared_execution import SharedEventExecutor, encode_message


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


schema = strawberry.Schema(
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
        encoded = encode_message(shared)
        assert encoded is not None and json.loads(encoded) == shared
        # Anything else is left to the normal encoder.
        assert encode_message({"id": "x", "type": "next", "payload": {"data": {"page": 1}}}) is None
        assert encode_message({"data": a.data}) is None  # type: ignore[attr-defined]

    asyncio.run(scenario())
