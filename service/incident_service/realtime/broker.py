"""Routes each event from the change stream to the subscribers it concerns.

Routing is synchronous and never awaits a subscriber: a slow subscriber
overflows its own bounded queue and is dropped, everyone else keeps receiving.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from incident_service.domain.incident import Event, Incident
from incident_service.observability import metrics
from incident_service.realtime.feeds import IncidentStates, StatusPageFeed
from incident_service.realtime.subscribers import Subscriber
from incident_service.store.incidents import IncidentStore
from incident_service.store.status_page import StatusPageStore


class Broker:
    def __init__(
        self, queue_size: int, incidents: IncidentStore, status_pages: StatusPageStore
    ) -> None:
        self.queue_size = queue_size
        self._by_incident: dict[str, set[Subscriber[Event]]] = {}
        self.incident_states = IncidentStates(incidents.get)
        self.status_page = StatusPageFeed(status_pages.load)
        self._tasks: list[asyncio.Task[None]] = []

    # Subscribing

    @contextlib.contextmanager
    def incident_events(
        self, incident_id: str, on_overflow: Callable[[], None] | None = None
    ) -> Iterator[Subscriber[Event]]:
        """Every new event of one incident (register before reading the replay)."""
        subscriber: Subscriber[Event] = Subscriber(self.queue_size, on_overflow)
        self._by_incident.setdefault(incident_id, set()).add(subscriber)
        try:
            yield subscriber
        finally:
            subs = self._by_incident.get(incident_id)
            if subs is not None:
                subs.discard(subscriber)
                if not subs:
                    del self._by_incident[incident_id]

    @contextlib.contextmanager
    def incident_changes(
        self,
        accepts: Callable[[Incident], bool],
        on_overflow: Callable[[], None] | None = None,
    ) -> Iterator[Subscriber[Incident]]:
        """The new state of every incident that changes and `accepts` it."""
        subscriber: Subscriber[Incident] = Subscriber(self.queue_size, on_overflow, accepts)
        with self.incident_states.subscribe(subscriber):
            yield subscriber

    # Publishing (called by the change stream only)

    def publish_incident_event(self, event: Event) -> None:
        subscribers = list(self._by_incident.get(event.incident_id, ()))
        for subscriber in subscribers:
            subscriber.offer(event)
        metrics.EVENTS_FANNED_OUT.labels("incident_events").inc(len(subscribers))
        self.incident_states.touch(event.incident_id, event.seq)
        self.status_page.touch()

    def publish_page_event(self, doc: dict[str, Any]) -> None:
        """A component or maintenance change: the status page may look different."""
        self.status_page.touch()

    def resynced(self) -> None:
        """The change stream (re)opened: derived state may have missed changes."""
        self.status_page.touch()

    # Lifecycle

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self.incident_states.run(), name="incident-states"),
            asyncio.create_task(self.status_page.run(), name="status-page"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
