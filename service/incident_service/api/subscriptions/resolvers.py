"""Subscriptions. All of them are fed by the change stream through the broker.

Notes for whoever changes this file:
* get_context runs once per websocket connection, so nothing here may rely on
  request-scoped caches: every read goes to the store or the broker.
* Strawberry executes the selection once per subscriber per event; shared
  objects (the status page) are built once per version, not per subscriber.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from typing import TypeVar, cast

import strawberry
from starlette.websockets import WebSocket

from incident_service.api.context import Info
from incident_service.api.incidents.inputs import IncidentFilter
from incident_service.api.incidents.types import Incident, IncidentEvent
from incident_service.api.permissions import IsViewer
from incident_service.api.status_page.types import StatusPage
from incident_service.api.subscriptions.shared_execution import SharedEventSchema
from incident_service.domain.errors import not_found, validation
from incident_service.domain.query import IncidentQuery, matches
from incident_service.domain.validation import object_id
from incident_service.realtime.subscribers import TOO_SLOW, Subscriber, SubscriberTooSlow

T = TypeVar("T")

#: Events read per round trip while replaying.
REPLAY_PAGE = 500


def _on_overflow(info: Info) -> Callable[[], None] | None:
    websocket = info.context.request
    if not isinstance(websocket, WebSocket):
        return None
    connections = info.context.connections
    return lambda: connections.close_soon(websocket, *TOO_SLOW)


async def _next(subscriber: Subscriber[T]) -> T:
    try:
        return await subscriber.get()
    except SubscriberTooSlow:
        if subscriber.closes_connection:
            # The connection is being closed with TOO_SLOW; Strawberry cancels
            # this operation when it goes. Sending anything now would race the close.
            await asyncio.Event().wait()
        raise


#: Events after which a caller may no longer see the incident (domain/restriction.py).
AUDIENCE_CHANGES = frozenset(
    {"RESTRICTED", "PARTICIPANT_REMOVED", "ROLE_UNASSIGNED", "ROLE_ASSIGNED"}
)


async def _incident_events(info: Info, iid: str, last: int) -> AsyncGenerator[IncidentEvent, None]:
    store = info.context.incidents
    # Register first, then replay: whatever is written meanwhile is in the
    # queue, and anything the replay already gave is skipped by seq.
    with info.context.broker.incident_events(iid, _on_overflow(info)) as subscriber:
        while True:
            page = await store.events(iid, last, REPLAY_PAGE)
            for stored in page:
                last = stored.seq
                yield IncidentEvent.from_domain(stored)
            if len(page) < REPLAY_PAGE:
                break
        while True:
            event = await _next(subscriber)
            if event.seq <= last:
                continue
            while event.seq > last + 1:
                # A hole: the change stream restarted without its token.
                # The store has every event; fill from there.
                missing = await store.events(iid, last, min(event.seq - last - 1, REPLAY_PAGE))
                if not missing:
                    break
                for m in missing:
                    last = m.seq
                    yield IncidentEvent.from_domain(m)
            if event.type in AUDIENCE_CHANGES and await store.get(iid) is None:
                # Restricted, or this caller no longer takes part: the stream ends as
                # for an unknown incident, before the event is sent.
                raise not_found("incident", "incidentId")
            last = event.seq
            yield IncidentEvent.from_domain(event)


async def _incident_changed(info: Info, query: IncidentQuery) -> AsyncGenerator[Incident, None]:
    broker = info.context.broker
    with broker.incident_changes(lambda i: matches(query, i), _on_overflow(info)) as subscriber:
        while True:
            yield Incident.from_domain(await _next(subscriber))


@strawberry.type
class RealtimeSubscriptions:
    @strawberry.subscription(
        description="Events of one incident: first every stored event with seq > afterSeq "
        "(all of them when afterSeq is omitted), in order, then each new one as it happens. "
        "No gap and no duplicate between the two. To resume after a disconnect, pass the "
        "last seq you received.",
        permission_classes=[IsViewer],
    )
    async def incident_events(
        self,
        info: Info,
        incident_id: strawberry.ID,
        after_seq: int | None = None,
    ) -> AsyncGenerator[IncidentEvent, None]:
        # Checked here, before the stream exists: errors become a clear GraphQL
        # error for the subscribe message instead of ending a running stream.
        iid = object_id(incident_id, "incidentId")
        last = after_seq or 0
        if last < 0:
            raise validation("afterSeq", "afterSeq must be 0 or more")
        if await info.context.incidents.get(iid) is None:
            raise not_found("incident", "incidentId")
        return _incident_events(info, iid, last)

    @strawberry.subscription(
        description="The new state of every incident that changes and matches `filter` "
        "(status, priority, category, serviceId, label, search, openOnly; checked on the "
        "server against the new state). Several events of one change give one push.",
        permission_classes=[IsViewer],
    )
    async def incident_changed(
        self, info: Info, filter: IncidentFilter | None = None
    ) -> AsyncGenerator[Incident, None]:
        query = filter.to_query() if filter else IncidentQuery()
        # A restricted incident is pushed only to its participants (and ADMIN).
        return _incident_changed(info, info.context.incidents.scoped(query))

    @strawberry.subscription(
        description="The public status page: the current state at once, then a new one on "
        "every change that affects it. Anonymous callers may subscribe. A slow reader "
        "skips intermediate states but always gets the latest."
    )
    async def status_page(self, info: Info) -> AsyncGenerator[StatusPage, None]:
        # One GraphQL object per page version for every subscriber of this
        # process: the shared execution caches results by payload identity.
        shared = cast(SharedEventSchema, info.schema).shared_events
        async for page in info.context.broker.status_page.watch():
            yield shared.share(page, StatusPage.from_domain)
