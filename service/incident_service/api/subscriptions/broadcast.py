"""Status page subscribers served by one loop per process once their first page is sent.

A status page socket stays open for hours, thousands at a time, and every
subscriber of one operation gets the same result on every event. Through
Strawberry, each subscription keeps a task and a chain of async generators
(the protocol handler's, Strawberry's, graphql-core's, the resolver's and the
feed's) waiting for the next page: about 10 KiB per subscriber, a quarter of
what the process holds per socket. So a graphql-transport-ws `statusPage`
subscription runs through Strawberry until its first result (every check,
error and extension as for any operation), and then, if that result is a
shared one (api/subscriptions/shared_execution.py), its stream is closed and
the subscription is *parked* here: a small record of the socket's operation,
its operation key and the data it was sent last.

One loop watches the status page feed for all parked subscribers. For a new
page it computes each operation's result once (with the executor that ran
that operation last) and starts a send to every subscriber that is not still
sending; a subscriber that was sending gets the newest page when its send
ends, so a slow reader skips intermediate states but always gets the latest,
as through Strawberry. Pages only move forward (the feed's latest), and a
subscriber is never sent a page it was sent already.

The socket's protocol is still Strawberry's: the operation stays registered
with its handler (ids, limits, `complete`, close), which tells the broadcast
when it ends (api/wshandler.py). A result with errors is never sent from
here: the subscribers of that operation are handed back to Strawberry, which
streams from the current page with every extension hook.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
import logging
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from graphql import ExecutionResult
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import Operation
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    NextMessage,
    NextMessagePayload,
)

from incident_service.api.status_page.types import StatusPage
from incident_service.api.subscriptions.shared_execution import OperationKey, SharedEvents
from incident_service.domain.status_page import StatusPage as Page
from incident_service.observability import metrics
from incident_service.realtime.backoff import Backoff
from incident_service.realtime.feeds import StatusPageFeed

log = logging.getLogger(__name__)

#: Hands a parked operation back to its protocol handler, to stream through Strawberry.
Unpark = Callable[[Operation[Any, Any]], None]


@dataclass(frozen=True)
class Ticket:
    """What parking a subscription needs, taken from its first result."""

    key: OperationKey
    executor: Any
    data: object
    #: The first result's extensions (the operation's cost), sent with every page.
    extensions: dict[str, Any] | None


@dataclass(eq=False, slots=True)
class _Member:
    operation: Operation[Any, Any]
    key: OperationKey
    unpark: Unpark
    #: Counts the subscription's end in the metrics (api/metrics_extension.py).
    end: Callable[[], None]
    #: The data of the last result sent (shared by every subscriber of the operation).
    last: object
    extensions: dict[str, Any] | None
    sending: bool = False
    parked: bool = True


def _spawn(coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
    # A context of its own: not the one of the subscription that happened to start it
    # (its request id, or what its metrics were told of its end).
    return asyncio.create_task(coro, name=name, context=contextvars.Context())


class Broadcast:
    def __init__(
        self,
        shared: SharedEvents,
        feed: StatusPageFeed,
        build: Callable[[Page], object] = StatusPage.from_domain,
    ) -> None:
        self._shared = shared
        self._feed = feed
        # The subscription's payload for a page, as its resolver builds it.
        self._build = build
        self._members: dict[Operation[Any, Any], _Member] = {}
        self._by_key: Counter[OperationKey] = Counter()
        # The executor of each operation with parked subscribers.
        self._executors: dict[OperationKey, Any] = {}
        self._page: Page | None = None
        self._payload: object | None = None
        self._results: dict[OperationKey, ExecutionResult] = {}
        self._loop: asyncio.Task[None] | None = None
        self._sends: set[asyncio.Task[None]] = set()
        self._stopped = False
        self._fanned_out = metrics.EVENTS_FANNED_OUT.labels("status_page")

    def __len__(self) -> int:
        return len(self._members)

    def ticket(self, result: object) -> Ticket | None:
        """A ticket to park the subscription whose first result this is, if it is a
        shared one (taken before the result is sent: the event may move on meanwhile)."""
        if self._stopped:
            return None
        key = self._shared.key_of(result)
        executor = self._shared.executors.get(key) if key is not None else None
        if key is None or executor is None:
            return None
        extensions = getattr(result, "extensions", None)
        return Ticket(key, executor, getattr(result, "data", None), extensions or None)

    def park(
        self,
        operation: Operation[Any, Any],
        ticket: Ticket,
        unpark: Unpark,
        end: Callable[[], None],
    ) -> None:
        """Serve `operation` from here on; its first result (`ticket`) was sent. `end`:
        called when it ends."""
        member = _Member(operation, ticket.key, unpark, end, ticket.data, ticket.extensions)
        self._members[operation] = member
        self._by_key[ticket.key] += 1
        self._executors.setdefault(ticket.key, ticket.executor)
        try:
            if self._loop is None:
                self._loop = _spawn(self._watch(), "status-page-broadcast")
            # Its first page may be newer than the loop's: catch up, never go back.
            if not self._move_to(self._feed.latest):
                self._kick(member)
        except BaseException:
            self.leave(operation)
            raise

    def leave(self, operation: Operation[Any, Any]) -> None:
        """The subscription ended (completed, or its socket closed)."""
        member = self._members.pop(operation, None)
        if member is None:
            return
        member.parked = False
        member.end()
        self._by_key[member.key] -= 1
        if self._by_key[member.key] <= 0:
            del self._by_key[member.key]
            self._executors.pop(member.key, None)
            self._results.pop(member.key, None)
        if not self._members and self._loop is not None:
            # Nobody is parked: stop watching, so the feed rebuilds only when asked.
            self._loop.cancel()
            self._loop = None

    async def stop(self) -> None:
        """Park nothing more and let go of everything parked (the process is stopping)."""
        self._stopped = True
        loop = self._loop
        for operation in list(self._members):
            self.leave(operation)
        tasks = [t for t in (loop, *self._sends) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _watch(self) -> None:
        """Move to every new page. A failed page build is retried (the feed is marked
        stale again): the parked subscribers would otherwise wait for ever."""
        backoff = Backoff()
        while True:
            try:
                async with contextlib.aclosing(self._feed.watch(counted=False)) as pages:
                    async for page in pages:
                        self._move_to(page)
                        backoff.reset()
            except Exception:
                log.warning("status page broadcast failed; retrying", exc_info=True)
                await backoff.wait()

    def _move_to(self, page: Page | None) -> bool:
        """Make `page` the current one if it is new; True if it was (every member is
        sent it)."""
        if page is None or page is self._page:
            return False
        payload = self._shared.share(page, self._build)
        self._page, self._payload = page, payload
        self._results.clear()
        for member in list(self._members.values()):
            self._kick(member)
        return True

    def _kick(self, member: _Member) -> None:
        if member.sending:
            return  # it sends the newest page when its current send ends
        member.sending = True
        task = _spawn(self._send(member), "status-page-send")
        self._sends.add(task)
        task.add_done_callback(self._sends.discard)

    async def _send(self, member: _Member) -> None:
        try:
            while member.parked:
                try:
                    result = await self._result(member.key)
                except Exception:
                    log.exception("status page result failed; handing back to Strawberry")
                    self._hand_back(member.key)
                    return
                if result is None or result.data is member.last:
                    return
                if result.errors or result.data is None:
                    self._hand_back(member.key)
                    return
                member.last = result.data
                if await self._sent(member, result.data):
                    self._fanned_out.inc()
        finally:
            member.sending = False

    async def _sent(self, member: _Member, data: dict[str, object]) -> bool:
        operation = member.operation
        payload: NextMessagePayload = {"data": data}
        if member.extensions:
            payload["extensions"] = member.extensions
        message: NextMessage = {"id": operation.id, "type": "next", "payload": payload}
        try:
            await operation.send_operation_message(message)
        except Exception:
            # The socket is closing: its handler ends the subscription.
            log.debug("status page send failed", exc_info=True)
            self.leave(operation)
            return False
        return True

    async def _result(self, key: OperationKey) -> ExecutionResult | None:
        """The current page's result of one operation, computed once per page."""
        result = self._results.get(key)
        executor = self._executors.get(key)
        if result is not None or executor is None or self._payload is None:
            return result
        payload = self._payload
        computed = executor.build_per_event_executor(payload).execute_operation()
        if inspect.isawaitable(computed):
            computed = await computed
        assert isinstance(computed, ExecutionResult)
        if payload is self._payload and key in self._executors:
            self._results[key] = computed
        return computed

    def _hand_back(self, key: OperationKey) -> None:
        """A result with errors: Strawberry streams it, and what follows, to these
        subscribers, with its error handling."""
        for member in [m for m in self._members.values() if m.key == key]:
            self.leave(member.operation)
            try:
                member.unpark(member.operation)
            except Exception:
                log.exception("status page subscription could not be handed back")
