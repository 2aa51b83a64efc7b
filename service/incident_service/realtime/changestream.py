"""The process's one change stream over the event collections.

It keeps the resume token of the last change it handed to the broker and
reopens from it after any error (network, failover, a database restart),
with backoff. While it is down `running` is False and /readyz says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from typing import Any

from pymongo.errors import OperationFailure, PyMongoError

from incident_service.observability import metrics
from incident_service.realtime.backoff import Backoff
from incident_service.realtime.broker import Broker
from incident_service.store import codec
from incident_service.store.database import Database

log = logging.getLogger(__name__)

COLLECTIONS = ("incident_events", "service_events", "maintenance_events", "outbox")
#: Changed API keys too: every replica forgets a revoked key at once.
API_KEYS = "api_keys"
PIPELINE = [
    {
        "$match": {
            "$or": [
                {"operationType": "insert", "ns.coll": {"$in": list(COLLECTIONS)}},
                {"operationType": {"$in": ["update", "replace", "delete"]}, "ns.coll": API_KEYS},
            ]
        }
    }
]
#: Server errors that mean the token can never be resumed from.
_LOST_HISTORY = {136, 280, 286}


class ChangeStream:
    def __init__(
        self,
        database: Database,
        broker: Broker,
        on_outbox: Callable[[codec.Doc], None] = lambda message: None,
        on_api_key: Callable[[str], None] = lambda key_id: None,
    ) -> None:
        self._db = database
        self._broker = broker
        self._on_api_key = on_api_key
        # A committed outbox message: this replica's job worker looks for work at once
        # instead of at its next poll.
        self._on_outbox = on_outbox
        self._task: asyncio.Task[None] | None = None
        self._opened = asyncio.Event()
        self.running = False
        self.resume_token: Mapping[str, Any] | None = None

    async def start(self, wait: float = 10.0) -> None:
        """Open the stream; wait (bounded) so the process is ready once it is open."""
        self._task = asyncio.create_task(self._run(), name="change-stream")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._opened.wait(), wait)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.running = False

    async def _run(self) -> None:
        backoff = Backoff()
        first = True
        while True:
            try:
                async with await self._db.db.watch(
                    PIPELINE, resume_after=self.resume_token
                ) as stream:
                    self.running = True
                    self._opened.set()
                    backoff.reset()
                    if not first:
                        metrics.CHANGE_STREAM_RESTARTS.inc()
                        log.warning("change stream reopened")
                        self._broker.resynced()
                    first = False
                    async for change in stream:
                        try:
                            self._dispatch(change)
                        except Exception:
                            # One undecodable document must not stall the stream
                            # (reopening from the token would meet it again).
                            log.exception("skipping a change the broker could not route")
                        self.resume_token = stream.resume_token
            except asyncio.CancelledError:
                raise
            except OperationFailure as exc:
                if exc.code in _LOST_HISTORY:
                    # Cannot resume: start from now. Subscribers of incidentEvents
                    # fill any gap from the store when the next event arrives.
                    log.error("change stream cannot resume (%s); starting from now", exc)
                    self.resume_token = None
                else:
                    log.warning("change stream failed: %s", exc)
            except PyMongoError as exc:
                log.warning("change stream interrupted: %s; reconnecting", exc)
            except Exception:
                log.exception("change stream failed unexpectedly; reconnecting")
            finally:
                self.running = False
            await backoff.wait()

    def _dispatch(self, change: dict[str, Any]) -> None:
        if change["ns"]["coll"] == API_KEYS:
            self._on_api_key(str(change["documentKey"]["_id"]))
            return
        doc = change.get("fullDocument")
        if doc is None:
            return
        collection = change["ns"]["coll"]
        if collection == "outbox":
            self._on_outbox(doc)
            return
        metrics.observe_change(change)
        if collection == "incident_events":
            self._broker.publish_incident_event(codec.event_from_doc(doc))
        else:
            # Components and maintenance windows: only the status page shows them.
            self._broker.publish_page_event(doc)
