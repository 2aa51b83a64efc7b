"""Whether anyone may hear of an outbound message: a webhook endpoint or an email subscriber.

A deployment with neither has nobody to notify, and an outbox message with
its fan-out job would be written, read back from the change stream, fanned
out to no one and deleted, for every change: on the embedded database that
is about as much work as the change itself. So a flag says whether an
endpoint or a subscriber may exist, and the outbox consults it before
writing a message.

The flag is the field `listeners` of the incident counter's document: a
declaration takes its number from that document anyway (outside its
transaction), so it learns the flag with the number at no cost. Any other
change reads the document in its own transaction.

Why this loses nothing:

* The flag is set (`arriving`) *before* an endpoint or a subscriber is
  written, and never cleared: whatever exists was preceded by the flag.
* A change that saw the flag unset began before the flag was set, so before
  the endpoint or subscriber was written: the two ran at the same time,
  and the change counts as the earlier. A change that saw it set writes its
  message, whose fan-out reads the endpoints and subscribers as they are
  then (as always).
* No flag (a database no process of this version has started on) reads as
  set: a message too many is harmless, one too few is not.
* An endpoint or a subscriber written without the flag (by a replica of an
  earlier version during a rolling update, a restore, an insert by hand)
  is found by the next start-up, and while the flag reads unset each
  process looks at what is stored every `AUDIT_SECONDS` and sets it.

Once set, a process believes it for good (the flag never clears) and stops
reading it: with an audience, a change costs what it did before.
"""

from __future__ import annotations

import contextlib
import time

from pymongo import WriteConcern
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from incident_service.store.codec import Doc
from incident_service.store.database import Database

#: The incident counter's document (store/incidents.py `next_number`) holds the flag.
COUNTER = {"_id": "incident"}
FIELD = "listeners"
#: While the flag reads unset, how often a process looks at what is stored (seconds):
#: an endpoint or a subscriber written without setting it (by a replica of an earlier
#: version during a rolling update, a restore, a direct insert) is found this late.
AUDIT_SECONDS = 5.0


def flag_in(counter: Doc | None) -> bool | None:
    """The flag as the counter's document holds it; None when it was never written."""
    value = None if counter is None else counter.get(FIELD)
    return value if isinstance(value, bool) else None


class Listeners:
    def __init__(self, database: Database, audit_seconds: float = AUDIT_SECONDS) -> None:
        self._db = database
        # Acknowledged once a majority has it: the snapshot of any later transaction,
        # on any replica, whatever read concern it is configured with, sees it.
        self._counters = database.counters.with_options(write_concern=WriteConcern("majority"))
        self._audit_seconds = audit_seconds
        self._audited_at = float("-inf")
        # True once this process has seen the flag set (it never clears).
        self._present = False

    async def may_exist(self, session: AsyncClientSession, counter: Doc | None = None) -> bool:
        """Inside a change's transaction: whether its messages may have a reader.
        `counter`: the counter's document as the change read it already (with its
        number); else it is read here, in the transaction."""
        if self._present:
            return True
        if counter is None:
            counter = await self._db.counters.find_one(COUNTER, {FIELD: 1}, session=session)
        flag = flag_in(counter)
        if flag is None:
            return True  # never written: as set, and read again next time
        if flag:
            self._present = True
            return True
        return await self._audit()

    async def arriving(self) -> None:
        """Before a webhook endpoint or an email subscriber is written: set the flag, so
        that every change from now on writes its messages."""
        await self._counters.update_one(COUNTER, {"$set": {FIELD: True}}, upsert=True)
        self._present = True

    async def take_stock(self) -> None:
        """At start-up: the flag written from what is stored where no process wrote it
        yet, and set where it reads unset but an endpoint or a subscriber is stored
        (written by a replica of an earlier version, restored, inserted by hand)."""
        flag = flag_in(await self._db.counters.find_one(COUNTER))
        if flag:
            self._present = True
            return
        self._audited_at = time.monotonic()
        if await self._stored():
            await self.arriving()
        elif flag is None:
            # Only fills a missing field: an `arriving` meanwhile wins. A counter made at
            # the same moment by an older replica's first declaration leaves the field
            # missing, which reads as set.
            with contextlib.suppress(DuplicateKeyError):
                await self._counters.update_one(
                    {**COUNTER, FIELD: {"$exists": False}}, {"$set": {FIELD: False}}, upsert=True
                )

    async def _audit(self) -> bool:
        """The flag reads unset: at most every `audit_seconds`, whether what is stored
        says otherwise, in which case the flag is set."""
        now = time.monotonic()
        if now - self._audited_at < self._audit_seconds:
            return False
        self._audited_at = now
        if not await self._stored():
            return False
        await self.arriving()
        return True

    async def _stored(self) -> bool:
        """Whether a webhook endpoint or an email subscriber is stored."""
        return (
            await self._db.webhook_endpoints.find_one({}, projection={"_id": 1}) is not None
            or await self._db.subscribers.find_one({}, projection={"_id": 1}) is not None
        )
