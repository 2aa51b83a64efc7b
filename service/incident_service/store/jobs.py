"""The `jobs` collection: timed and outbound work, claimed by one replica at a time.

A job is written in the same transaction as the change that calls for it
(never "after commit, if the process survives"). Every replica's worker
claims due jobs with an atomic find-and-modify that sets a lease
(`leaseUntil`, `leaseOwner`) and counts `attempts`; if the worker dies, the
lease runs out and another replica takes the job over. A handler settles its
job inside its own transaction, guarded by the lease, so a worker whose
lease was taken over cannot also commit: each effect happens once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession

from incident_service.store.codec import Doc
from incident_service.store.database import Database

PENDING = "PENDING"
DONE = "DONE"


class LeaseLost(Exception):
    """Another worker holds the job now; this one must not commit its effect."""


@dataclass(frozen=True)
class Job:
    id: str
    kind: str
    ref: str
    due_at: datetime
    attempts: int
    lease_owner: str


class JobStore:
    def __init__(self, database: Database) -> None:
        self._jobs = database.jobs

    async def schedule(
        self,
        job_id: str,
        kind: str,
        ref: str,
        due_at: datetime | None,
        session: AsyncClientSession,
    ) -> None:
        """Make the job due at `due_at` (None: nothing left to do), within the caller's
        transaction. A worker holding it loses its lease: it will re-read the state."""
        state: Doc = (
            {"status": PENDING, "dueAt": due_at} if due_at is not None else {"status": DONE}
        )
        await self._jobs.update_one(
            {"_id": job_id},
            {
                "$set": {
                    **state,
                    "kind": kind,
                    "ref": ref,
                    "attempts": 0,
                    "leaseUntil": None,
                    "leaseOwner": None,
                    "lastError": None,
                }
            },
            upsert=True,
            session=session,
        )

    async def claim(self, now: datetime, lease: timedelta, owner: str) -> Job | None:
        """The oldest due job nobody holds, now leased to `owner`; None when there is none."""
        doc = await self._jobs.find_one_and_update(
            {
                "status": PENDING,
                "dueAt": {"$lte": now},
                "$or": [{"leaseUntil": None}, {"leaseUntil": {"$lte": now}}],
            },
            {"$set": {"leaseUntil": now + lease, "leaseOwner": owner}, "$inc": {"attempts": 1}},
            sort=[("dueAt", 1)],
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            return None
        return Job(doc["_id"], doc["kind"], doc["ref"], doc["dueAt"], doc["attempts"], owner)

    async def settle(
        self, job: Job, next_due: datetime | None, session: AsyncClientSession
    ) -> None:
        """Inside the handler's transaction: done, or due again at `next_due`."""
        state: Doc = (
            {"status": PENDING, "dueAt": next_due} if next_due is not None else {"status": DONE}
        )
        result = await self._jobs.update_one(
            {"_id": job.id, "leaseOwner": job.lease_owner},
            {
                "$set": {
                    **state,
                    "attempts": 0,
                    "leaseUntil": None,
                    "leaseOwner": None,
                    "lastError": None,
                }
            },
            session=session,
        )
        if result.matched_count == 0:
            raise LeaseLost(job.id)

    async def retry(self, job: Job, at: datetime, error: str) -> None:
        """The handler failed: try again at `at` (if the lease is still ours)."""
        await self._jobs.update_one(
            {"_id": job.id, "leaseOwner": job.lease_owner},
            {
                "$set": {
                    "dueAt": at,
                    "leaseUntil": None,
                    "leaseOwner": None,
                    "lastError": error[:500],
                }
            },
        )

    async def get(self, job_id: str) -> Doc | None:
        return await self._jobs.find_one({"_id": job_id})
