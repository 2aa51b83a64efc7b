"""The outbox: outbound messages written in the transaction of the change that caused them.

`record` is called by the stores inside a change's transaction: the message
and its fan-out job commit with the change or not at all. The fan-out job
(one per message, handled by `fan_out` on whichever replica claims it)
asks every audience (webhook endpoints, email subscribers) for the
deliveries the message calls for and writes them, each with its own job,
in one transaction guarded by the job's lease: a message fans out once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from bson import ObjectId
from pymongo.asynchronous.client_session import AsyncClientSession

from incident_service.domain.notifications import Message
from incident_service.store.codec import Doc
from incident_service.store.database import Database
from incident_service.store.jobs import Job, JobStore, new_job

KIND = "outbox"


class Audience(Protocol):
    """Receivers of outbound messages: what one message means for them."""

    async def fan_out(
        self, message_id: str, message: Message, target: str | None, session: AsyncClientSession
    ) -> list[Doc]:
        """Write the deliveries of `message` (only to `target` when given) and return
        their jobs (see `store.jobs.new_job`)."""
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


def new_message_id() -> str:
    """Stable for the message's life: the `webhook-id` receivers drop duplicates by."""
    return f"msg_{ObjectId()}"


class Outbox:
    def __init__(self, database: Database, jobs: JobStore) -> None:
        self._db = database
        self._jobs = jobs
        self._audiences: list[Audience] = []

    def add_audience(self, audience: Audience) -> None:
        self._audiences.append(audience)

    async def record(
        self,
        messages: Sequence[Message],
        session: AsyncClientSession,
        target: str | None = None,
    ) -> list[str]:
        """Inside the caller's transaction: the messages and their fan-out jobs."""
        if not messages:
            return []
        ids = [new_message_id() for _ in messages]
        docs = [message_to_doc(i, m, target) for i, m in zip(ids, messages, strict=True)]
        await self._db.outbox.insert_many(docs, session=session)
        await self._jobs.enqueue(
            [new_job(job_id(i), KIND, i, m.at) for i, m in zip(ids, messages, strict=True)],
            session,
        )
        return ids

    async def get(self, message_id: str) -> Message | None:
        doc = await self._db.outbox.find_one({"_id": message_id})
        return message_from_doc(doc) if doc else None

    async def fan_out(self, job: Job, now: datetime) -> list[tuple[str, str | None]]:
        """The fan-out job's handler; returns the deliveries' jobs (id, group), due now."""
        jobs: list[Doc] = []

        async def txn(session: AsyncClientSession) -> None:
            jobs.clear()
            doc = await self._db.outbox.find_one({"_id": job.ref}, session=session)
            if doc is not None:
                message = message_from_doc(doc)
                for audience in self._audiences:
                    jobs.extend(
                        await audience.fan_out(doc["_id"], message, doc.get("target"), session)
                    )
                await self._jobs.enqueue(jobs, session)
            await self._jobs.settle(job, None, session)

        await self._db.transaction(txn)
        return [(j["_id"], j.get("group")) for j in jobs]
