"""The outbox: outbound messages written in the transaction of the change that caused them.

`record` is called by the stores inside a change's transaction: the message
and its fan-out job commit with the change or not at all. The fan-out job
(one per message, handled by `fan_out` on whichever replica claims it)
asks every audience (webhook endpoints, email subscribers) for the
deliveries the message calls for and writes them, each still to send with a
job of its own (those its first attempts settled into the audience's log),
then settles the fan-out job guarded by its lease. Each delivery's id is made
from the message's, so a fan-out that runs twice writes each delivery once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from bson import ObjectId
from cachetools import LRUCache
from pymongo.asynchronous.client_session import AsyncClientSession

from incident_service.domain.notifications import Message
from incident_service.domain.webhooks import FirstAttempt
from incident_service.store.codec import Doc
from incident_service.store.database import Database
from incident_service.store.inserts import Inserts
from incident_service.store.jobs import Candidate, Job, JobStore, Leases, candidate, new_job
from incident_service.store.listeners import Listeners

KIND = "outbox"
#: The lease its fan-out job was written with, in a message document: which worker
#: runs it (see `leased_fan_out`).
LEASE = "lease"
#: Message documents kept in memory per process. A message never changes once
#: written, and each is read once per endpoint that gets it: the cache saves the
#: webhook dispatcher a database read for all but the first.
CACHED_MESSAGES = 1024


class SettledLog(Protocol):
    async def add(self, records: list[Doc]) -> None:
        """Write records that need no job (store/delivery_batches.py)."""
        ...


@dataclass(frozen=True)
class Recipients:
    """What one message means for one audience: the records to write into `collection`
    (deliveries, emails) and their jobs (see `store.jobs.new_job`)."""

    collection: str
    records: list[Doc]
    jobs: list[Doc]
    #: Records settled already by the fan-out's first attempts, written to `log`
    #: instead of `collection`, before the fan-out settles its job.
    settled: list[Doc] = field(default_factory=list)
    log: SettledLog | None = None


class Audience(Protocol):
    """Receivers of outbound messages: what one message means for them."""

    async def recipients(
        self,
        message_id: str,
        message: Message,
        target: str | None,
        sent: Mapping[str, FirstAttempt],
    ) -> Recipients | None:
        """The deliveries of `message` (only to `target` when given), None when there
        are none. `sent`: the first attempts the fan-out made already, by webhook
        endpoint id."""
        ...

    async def pending_jobs(self, message_id: str, now: datetime) -> list[Doc]:
        """Jobs for the deliveries of `message_id` that are stored and still pending
        (for a fan-out that runs again: see `Outbox.fan_out`)."""
        ...


def message_to_doc(message_id: str, message: Message, target: str | None = None) -> Doc:
    return {
        "_id": message_id,
        "type": message.type,
        "at": message.at,
        "data": message.data,
        "serviceIds": list(message.service_ids),
        "public": message.public,
        "target": target,
    }


def message_from_doc(doc: Doc) -> Message:
    return Message(
        doc["type"], doc["at"], doc["data"], tuple(doc.get("serviceIds", ())), doc.get("public")
    )


def job_id(message_id: str) -> str:
    """The fan-out job of a message."""
    return f"{KIND}:{message_id}"


def fan_out_job(message_id: str) -> Candidate:
    """The fan-out job of a message just written, to claim without reading it first."""
    return Candidate(job_id(message_id), KIND, message_id)


def record_id(message_id: str, recipient_id: str) -> str:
    """The id of a message's delivery (or email) to one recipient: made from both, so a
    fan-out that runs again finds what it wrote (see `Outbox.fan_out`)."""
    return f"{message_id}.{recipient_id}"


def record_parts(record: str) -> tuple[str, str]:
    """The message id and the recipient id a `record_id` was made from."""
    message_id, _, recipient_id = record.rpartition(".")
    return message_id, recipient_id


def records_of(message_id: str) -> Doc:
    """The filter of a message's deliveries (or emails), by the `_id` index."""
    return {"_id": {"$regex": f"^{re.escape(message_id)}\\."}}


def leased_fan_out(doc: Doc) -> Job | None:
    """The fan-out job of a message just written, as leased when it was written (None if
    it was written unleased, by a process without leases)."""
    lease = doc.get(LEASE)
    if not isinstance(lease, str):
        return None
    return Job(job_id(doc["_id"]), KIND, doc["_id"], 1, lease)


def new_message_id() -> str:
    """Stable for the message's life: the `webhook-id` receivers drop duplicates by."""
    return f"msg_{ObjectId()}"


class Outbox:
    def __init__(
        self,
        database: Database,
        jobs: JobStore,
        leases: Leases | None = None,
        listeners: Listeners | None = None,
    ) -> None:
        self._db = database
        self._jobs = jobs
        # Whether anyone may hear of a message (store/listeners.py): without it, every
        # message is written.
        self._listeners = listeners
        # The worker of this process: a new message's fan-out job is written leased to
        # it, which runs it after the commit without a claim (`leased_fan_out`).
        self._leases = leases
        self._audiences: list[Audience] = []
        self._cache: LRUCache[str, Doc] = LRUCache(CACHED_MESSAGES)

    def add_audience(self, audience: Audience) -> None:
        self._audiences.append(audience)

    async def record(
        self,
        messages: Sequence[Message],
        session: AsyncClientSession,
        target: str | None = None,
        jobs: Sequence[Doc] = (),
    ) -> list[str]:
        """Inside the caller's transaction: the messages and their fan-out jobs.

        `jobs`: the caller's own new jobs (`new_job`), written with the fan-out
        jobs. Returns the messages' ids."""
        inserts = Inserts()
        ids = await self.add(inserts, messages, session, target, jobs)
        await self._db.insert_together(inserts, session)
        return ids

    async def add(
        self,
        inserts: Inserts,
        messages: Sequence[Message],
        session: AsyncClientSession,
        target: str | None = None,
        jobs: Sequence[Doc] = (),
        counter: Doc | None = None,
    ) -> list[str]:
        """`record`, for a caller that writes the messages and jobs with its own new
        documents (one command for all of them: see store/inserts.py).

        No message is written while nobody may hear of it (store/listeners.py); a
        message to a `target` endpoint always is. `counter`: the incident counter's
        document as the caller read it already (with its number), which holds the
        flag; else the flag is read here."""
        if messages and target is None and not await self.may_be_heard(session, counter):
            messages = ()
        ids = [new_message_id() for _ in messages]
        docs, fan_outs = [], []
        for message_id, message in zip(ids, messages, strict=True):
            doc = message_to_doc(message_id, message, target)
            lease = None
            if self._leases is not None:
                lease = doc[LEASE] = self._leases.token()
            docs.append(doc)
            fan_outs.append(
                new_job(
                    job_id(message_id),
                    KIND,
                    message_id,
                    message.at,
                    leased_to=lease,
                    lease_until=message.at + self._leases.length if self._leases else None,
                )
            )
        inserts.add(self._db.outbox, docs)
        self._jobs.add(inserts, [*fan_outs, *jobs])
        return ids

    async def may_be_heard(self, session: AsyncClientSession, counter: Doc | None = None) -> bool:
        """Inside a change's transaction: whether a webhook endpoint or an email
        subscriber may exist (`counter`: see `add`)."""
        return self._listeners is None or await self._listeners.may_exist(session, counter)

    async def audience_arriving(self) -> None:
        """Before a webhook endpoint or an email subscriber is written (see
        store/listeners.py)."""
        if self._listeners is not None:
            await self._listeners.arriving()

    async def get(self, message_id: str) -> Message | None:
        doc = await self.document(message_id)
        return message_from_doc(doc) if doc else None

    async def document(self, message_id: str) -> Doc | None:
        """The message's document (None once it expired), from memory when it was read
        here before."""
        doc = self._cache.get(message_id)
        if doc is None:
            doc = await self._db.outbox.find_one({"_id": message_id})
            if doc is not None:
                self._cache[message_id] = doc
        return doc

    def remember(self, doc: Doc) -> None:
        """A message document seen on the change stream: its fan-out need not read it."""
        self._cache[doc["_id"]] = doc

    async def fan_out(
        self, job: Job, now: datetime, sent: Mapping[str, FirstAttempt] | None = None
    ) -> list[Candidate]:
        """The fan-out job's handler (after the first attempts in `sent`, see
        jobs/fanout.py): writes the deliveries (those settled already into their
        audience's log) and their jobs, then settles the job, guarded by its lease;
        returns the jobs due now.

        No transaction: every record and job has an id made from the message's, so a
        fan-out that runs again (its replica died before settling) skips what it
        wrote before, and the job is settled last. On the embedded database a
        transaction cost more than the writes themselves (docs/decisions.md). A
        message nobody is to hear of is one guarded delete."""
        doc = await self.document(job.ref)
        found: list[Recipients] = []
        if doc is not None:
            message = message_from_doc(doc)
            for audience in self._audiences:
                recipients = await audience.recipients(
                    doc["_id"], message, doc.get("target"), sent or {}
                )
                if recipients is not None:
                    found.append(recipients)
        for recipients in found:
            await self._db.insert_new(recipients.collection, recipients.records)
            if recipients.log is not None:
                await recipients.log.add(recipients.settled)
        jobs = {j["_id"]: j for recipients in found for j in recipients.jobs}
        if job.attempts > 1:
            # A run before this one may have written deliveries and died before their
            # jobs, and this run may see other recipients (an endpoint changed since):
            # every delivery stored and pending gets its job.
            for audience in self._audiences:
                for pending in await audience.pending_jobs(job.ref, now):
                    jobs.setdefault(pending["_id"], pending)
        await self._db.insert_new("jobs", list(jobs.values()))
        await self._jobs.settle(job, None)
        return [candidate(j) for j in jobs.values() if j["dueAt"] <= now]
