"""subscribeToStatusPage (anonymous) and the subscriber list (ADMIN)."""

from __future__ import annotations

import strawberry

from incident_service.api.common import PageInfo, payload
from incident_service.api.context import Info
from incident_service.api.permissions import IsAdmin
from incident_service.api.subscribers.types import (
    StatusPageSubscriber,
    StatusPageSubscriberConnection,
    StatusPageSubscriberEdge,
    StatusPageSubscriberPayload,
    SubscribeToStatusPageInput,
    SubscribeToStatusPagePayload,
)
from incident_service.domain import validation
from incident_service.domain.errors import not_found
from incident_service.domain.subscribers import Subscriber


@strawberry.type
class SubscriberQueries:
    @strawberry.field(
        description="Email subscribers of the status page, newest first (Relay connection).",
        permission_classes=[IsAdmin],
    )
    async def status_page_subscribers(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> StatusPageSubscriberConnection:
        store = info.context.resources.subscribers
        items, has_next = await store.page(validation.page_size(first), after)
        edges = [
            StatusPageSubscriberEdge(cursor=c, node=StatusPageSubscriber.from_domain(s))
            for s, c in items
        ]
        return StatusPageSubscriberConnection(
            edges=edges,
            page_info=PageInfo.forward([e.cursor for e in edges], has_next),
            total_count=await store.count(),
        )


@strawberry.type
class SubscriberMutations:
    @strawberry.mutation(
        description="Anyone: ask for email updates of the status page. A confirmation email "
        "goes out first (at most one per address per SUBSCRIBE_ADDRESS_INTERVAL_SECONDS); "
        "nothing else is sent until its link is followed. Rate-limited per client IP.",
    )
    async def subscribe_to_status_page(
        self, info: Info, input: SubscribeToStatusPageInput
    ) -> SubscribeToStatusPagePayload:
        request = info.context.request
        ip = request.client.host if request.client else "unknown"

        async def work() -> None:
            await info.context.resources.subscribe.subscribe(
                ip, input.email, [str(i) for i in input.service_ids or ()]
            )

        return await payload(
            work, SubscribeToStatusPagePayload.ok, SubscribeToStatusPagePayload.failed
        )

    @strawberry.mutation(
        description="Remove a subscriber: no more emails to that address.",
        permission_classes=[IsAdmin],
    )
    async def remove_status_page_subscriber(
        self, info: Info, id: strawberry.ID
    ) -> StatusPageSubscriberPayload:
        async def work() -> Subscriber:
            store = info.context.resources.subscribers
            removed = await store.remove(validation.object_id(id, "id"))
            if removed is None:
                raise not_found("subscriber")
            return removed

        return await payload(
            work, StatusPageSubscriberPayload.ok, StatusPageSubscriberPayload.failed
        )
