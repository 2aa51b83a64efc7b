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

Once set, a process believes it for good (the flag never clears) and stops
reading it: with an audience, a change costs what it did before.
"""

from __future__ import annotations

import contextlib

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from incident_service.store.codec import Doc
from incident_service.store.database import Database

#: The incident counter's document (store/incidents.py `next_number`) holds the flag.
COUNTER = {"_id": "incident"}
FIELD = "listeners"


def in_counter(doc: Doc) -> bool:
    """The flag as the counter's document holds it (not yet written: set)."""
    return bool(doc.get(FIELD, True))


class Listeners:
    def __init__(self, database: Database) -> None:
        self._db = database
        # True once this process has seen the flag set (it never clears).
        self._present = False

    async def may_exist(self, session: AsyncClientSession, known: bool | None = None) -> bool:
        """Inside a change's transaction: whether its messages may have a reader.
        `known`: the flag as the change read it already (with its number)."""
        if self._present:
            return True
        if known is None:
            doc = await self._db.counters.find_one(COUNTER, {FIELD: 1}, session=session)
            known = doc is None or in_counter(doc)
        self._present = known
        return known

    async def arriving(self) -> None:
        """Before a webhook endpoint or an email subscriber is written: set the flag, so
        that every change from now on writes its messages."""
        if self._present:
            return
        await self._db.counters.update_one(COUNTER, {"$set": {FIELD: True}}, upsert=True)
        self._present = True

    async def take_stock(self) -> None:
        """At start-up: write the flag from what is stored, if no process wrote it yet
        (if an endpoint arrives meanwhile, its `arriving` wins: this write only fills
        a flag that is missing)."""
        doc = await self._db.counters.find_one(COUNTER)
        if doc is not None and FIELD in doc:
            return
        present = (
            await self._db.webhook_endpoints.find_one({}, projection={"_id": 1}) is not None
            or await self._db.subscribers.find_one({}, projection={"_id": 1}) is not None
        )
        with contextlib.suppress(DuplicateKeyError):
            await self._db.counters.update_one(
                {**COUNTER, FIELD: {"$exists": False}}, {"$set": {FIELD: present}}, upsert=True
            )
