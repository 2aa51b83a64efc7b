"""Derived feeds: state that is re-read from the store after events, coalesced.

Both feeds run one worker task each. A burst of events costs one read per
incident (or one status page build), not one per event and never one per
subscriber.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from incident_service.domain.incident import Incident
from incident_service.domain.status_page import StatusPage
from incident_service.observability import metrics
from incident_service.realtime.backoff import Backoff
from incident_service.realtime.subscribers import Subscriber

log = logging.getLogger(__name__)

#: Incidents whose last delivered seq is remembered (to coalesce one change's events).
_SEEN_MAX = 10_000
#: Seconds a page read by polling readers (JSON API, feeds) may be old before a rebuild.
MAX_PAGE_AGE = 60.0


class IncidentStates:
    """Pushes an incident's new state to `incidentChanged` subscribers after its events."""

    def __init__(self, load: Callable[[str], Awaitable[Incident | None]]) -> None:
        self._load = load
        self.subscribers: set[Subscriber[Incident]] = set()
        self._pending: dict[str, int] = {}
        self._seen: OrderedDict[str, int] = OrderedDict()
        self._wake = asyncio.Event()

    @contextmanager
    def subscribe(self, subscriber: Subscriber[Incident]) -> Any:
        self.subscribers.add(subscriber)
        try:
            yield subscriber
        finally:
            self.subscribers.discard(subscriber)

    def touch(self, incident_id: str, seq: int) -> None:
        if not self.subscribers or self._seen.get(incident_id, 0) >= seq:
            # Nobody listens, or the state already sent includes this event
            # (one change writes several events in one transaction).
            return
        self._pending[incident_id] = max(seq, self._pending.get(incident_id, 0))
        self._wake.set()

    async def run(self) -> None:
        backoff = Backoff()
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                # Taken off before the read: an event arriving during the read
                # puts the incident back, so its last state is never skipped.
                incident_id = next(iter(self._pending))
                seq = self._pending.pop(incident_id)
                try:
                    incident = await self._load(incident_id)
                except Exception:
                    log.warning("incident state read failed; retrying", exc_info=True)
                    self._pending[incident_id] = max(seq, self._pending.get(incident_id, 0))
                    await backoff.wait()
                    continue
                backoff.reset()
                if incident is None or incident.last_seq <= self._seen.get(incident_id, 0):
                    continue
                self._remember(incident_id, incident.last_seq)
                offered = 0
                for subscriber in list(self.subscribers):
                    if subscriber.accepts is None or subscriber.accepts(incident):
                        subscriber.offer(incident)
                        offered += 1
                metrics.EVENTS_FANNED_OUT.labels("incident_changed").inc(offered)

    def _remember(self, incident_id: str, seq: int) -> None:
        self._seen[incident_id] = seq
        self._seen.move_to_end(incident_id)
        while len(self._seen) > _SEEN_MAX:
            self._seen.popitem(last=False)


def _same(a: StatusPage | None, b: StatusPage) -> bool:
    # updatedAt alone may move with nothing else changed (empty page); ignore it.
    return a is not None and replace(a, updated_at=b.updated_at) == b


class StatusPageFeed:
    """The latest status page, rebuilt after relevant events; many watchers, one build.

    Watchers do not queue: each one always gets the newest page, so a slow
    reader skips intermediate states but never misses the last one, and
    memory does not grow with slowness.
    """

    def __init__(self, load: Callable[[], Awaitable[StatusPage]]) -> None:
        self._load = load
        self.latest: StatusPage | None = None
        self.version = 0
        self.watchers = 0
        self._stale = True
        self._built_at = 0.0
        self._dirty = asyncio.Event()
        self._published = asyncio.Event()
        self._lock = asyncio.Lock()
        # Looked up once: it is counted for every watcher on every page.
        self._fanned_out = metrics.EVENTS_FANNED_OUT.labels("status_page")

    def touch(self) -> None:
        if self.watchers == 0:
            # Nobody watches: do not rebuild, rebuild on the next watch instead.
            self._stale = True
            return
        self._dirty.set()

    async def refresh(self, *, only_if_stale: bool = False) -> StatusPage:
        """Rebuild the page (publishing it if it changed); returns the latest page."""
        async with self._lock:
            if (
                only_if_stale
                and self.latest is not None
                and not self._stale
                and not self._too_old()
            ):
                # Built while we waited for the lock (many watchers arriving at once).
                return self.latest
            # Cleared before the reads: a change that lands during them marks the
            # page stale again instead of being overwritten by this build.
            self._stale = False
            self._built_at = time.monotonic()
            try:
                page = await self._load()
            except BaseException:
                self._stale = True
                raise
            if _same(self.latest, page) and self.latest is not None:
                return self.latest
            self.latest = page
            self.version += 1
            self._published.set()
            self._published.clear()
            return page

    async def run(self) -> None:
        backoff = Backoff()
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            try:
                await self.refresh()
                backoff.reset()
            except Exception:
                log.warning("status page build failed; retrying", exc_info=True)
                self._dirty.set()
                await backoff.wait()

    async def current(self) -> StatusPage:
        """The latest page, rebuilt first if a change arrived while nobody watched.

        For readers that poll (the JSON API, feeds, the incident pages): a
        burst of requests costs one build, not one each.
        """
        if self.latest is None or self._stale or self._too_old():
            return await self.refresh(only_if_stale=True)
        return self.latest

    def _too_old(self) -> bool:
        # Time-based parts (the history window, the day's uptime) move without events.
        return time.monotonic() - self._built_at > MAX_PAGE_AGE

    async def watch(self, *, counted: bool = True) -> AsyncGenerator[StatusPage]:
        """The current page at once, then every new one. `counted`: each page counts as
        handed to one subscriber (a watcher serving many counts its own sends)."""
        self.watchers += 1
        try:
            if self.latest is None or self._stale:
                await self.refresh(only_if_stale=True)
            seen = -1
            while True:
                if self.version != seen and self.latest is not None:
                    seen = self.version
                    if counted:
                        self._fanned_out.inc()
                    yield self.latest
                else:
                    await self._published.wait()
        finally:
            self.watchers -= 1
