"""The `jobs` collection: timed and outbound work, claimed by one replica at a time.

A job is written in the same transaction as the change that calls for it
(never "after commit, if the process survives"). Every replica's worker
claims due jobs with an atomic find-and-modify that sets a lease
(`leaseUntil`, `leaseOwner`) and counts `attempts`; if the worker dies, the
lease runs out and another replica takes the job over. A handler settles its
job guarded by the lease, in its own transaction where it has one; one
without (the outbox fan-out) writes only what has ids of its own making, so
running twice writes it once, and the jobs it writes find out whether their
work was done before they act.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession

from incident_service.store.codec import Doc
from incident_service.store.database import Database
from incident_service.store.inserts import Inserts

PENDING = "PENDING"
#: Given up after too many failed attempts (see jobs/worker.py); kept a week. Jobs that
#: are done are deleted.
FAILED = "FAILED"
#: The index of due pending jobs (store/database.py). Named in the claim: without it
#: the embedded database reads every job, finished ones included, for each claim.
DUE_INDEX = "due"


def _state(due_at: datetime) -> Doc:
    return {"status": PENDING, "dueAt": due_at, "finishedAt": None}


class LeaseLost(Exception):
    """Another worker holds the job now; this one must not commit its effect."""


@dataclass(frozen=True)
class Candidate:
    """A job thought due, as last read (or as just written): what claiming it needs."""

    id: str
    kind: str
    ref: str
    #: Jobs of one group (a webhook endpoint) run at most a few at a time per worker,
    #: so one slow receiver cannot take every slot.
    group: str | None = None
    #: Claims so far; the claim succeeds only if it is unchanged.
    attempts: int = 0


@dataclass(frozen=True)
class Job:
    """A claimed job: its lease is `lease_owner`'s until it settles, retries or runs out."""

    id: str
    kind: str
    ref: str
    attempts: int
    lease_owner: str
    group: str | None = None


class Leases:
    """The leases one worker takes: each claim is `<owner>:<n>`, so a settle guarded by
    it fails for a run whose lease ran out, even when the same worker claimed the job
    again. Shared by the worker and the outbox, which writes a new message's fan-out
    job already leased to this worker (see `new_job`)."""

    def __init__(self, seconds: float) -> None:
        self.owner = f"worker-{uuid.uuid4().hex[:12]}"
        self.length = timedelta(seconds=seconds)
        self._claims = itertools.count(1)

    def token(self) -> str:
        return f"{self.owner}:{next(self._claims)}"

    def mine(self, token: str) -> bool:
        return token.rpartition(":")[0] == self.owner


def new_job(
    job_id: str,
    kind: str,
    ref: str,
    due_at: datetime,
    group: str | None = None,
    leased_to: str | None = None,
    lease_until: datetime | None = None,
) -> Doc:
    """A job document for `JobStore.enqueue`. `leased_to`: written already claimed by
    that lease (until `lease_until`), for the writer to run without a claim; if the
    writer dies, the lease runs out and any worker claims it."""
    return {
        "_id": job_id,
        "kind": kind,
        "ref": ref,
        "group": group,
        "status": PENDING,
        "dueAt": due_at,
        "attempts": 0 if leased_to is None else 1,
        "leaseUntil": lease_until if leased_to is not None else None,
        "leaseOwner": leased_to,
        "lastError": None,
    }


def candidate(doc: Doc) -> Candidate:
    """A job document (as written by `new_job`, or read) as a candidate for `claim_id`."""
    return Candidate(doc["_id"], doc["kind"], doc["ref"], doc.get("group"), doc["attempts"])


def _job(doc: Doc, owner: str) -> Job:
    return Job(doc["_id"], doc["kind"], doc["ref"], doc["attempts"], owner, doc.get("group"))


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
        transaction. A worker holding it loses its lease: it will re-read the state.

        A job with nothing left to do is deleted, not kept: on the embedded database
        every query for due jobs reads the whole collection, so it must hold only
        pending work."""
        if due_at is None:
            await self._jobs.delete_one({"_id": job_id}, session=session)
            return
        state = _state(due_at)
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

    async def enqueue(self, jobs: list[Doc], session: AsyncClientSession) -> None:
        """New jobs (see `new_job`), within the caller's transaction."""
        if jobs:
            await self._jobs.insert_many(jobs, session=session)

    def add(self, inserts: Inserts, jobs: list[Doc]) -> None:
        """New jobs (see `new_job`), to be written with the caller's other inserts."""
        inserts.add(self._jobs, jobs)

    @staticmethod
    def _claimable(now: datetime) -> Doc:
        """Due, and nobody's lease is running (none, or it ran out). The lease test is
        `$not: {$gt: now}` (null, missing or at most `now`), not an `$or`: with an `$or`
        the embedded database reads the whole collection even when `_id` is given."""
        return {"status": PENDING, "dueAt": {"$lte": now}, "leaseUntil": {"$not": {"$gt": now}}}

    async def claim(
        self, now: datetime, lease: timedelta, owner: str, busy_groups: frozenset[str] = frozenset()
    ) -> Job | None:
        """The oldest due job nobody holds, outside `busy_groups`, now leased to `owner`;
        None when there is none."""
        query = self._claimable(now)
        if busy_groups:
            query["group"] = {"$nin": sorted(busy_groups)}
        doc = await self._jobs.find_one_and_update(
            query,
            {"$set": {"leaseUntil": now + lease, "leaseOwner": owner}, "$inc": {"attempts": 1}},
            sort=[("dueAt", 1)],
            hint=DUE_INDEX,
            return_document=ReturnDocument.AFTER,
        )
        return _job(doc, owner) if doc is not None else None

    async def due(
        self, now: datetime, limit: int, busy_groups: frozenset[str] = frozenset()
    ) -> list[Candidate]:
        """Up to `limit` due jobs nobody holds, outside `busy_groups`, oldest first:
        candidates for `claim_id`. One query for many claims: finding the oldest due
        job is the claim's expensive part (the embedded database reads every pending
        job to answer it), taking one by id is cheap."""
        query = self._claimable(now)
        if busy_groups:
            query["group"] = {"$nin": sorted(busy_groups)}
        docs = (
            await self._jobs.find(query, {"kind": 1, "ref": 1, "group": 1, "attempts": 1})
            .sort([("dueAt", 1)])
            .hint(DUE_INDEX)
            .limit(limit)
            .to_list()
        )
        return [candidate(d) for d in docs]

    async def claim_id(
        self, job: Candidate, now: datetime, lease: timedelta, owner: str
    ) -> Job | None:
        """The job, leased to `owner`, if it is still due, nobody holds it and nobody
        claimed it since it was read; else None (another worker was first).

        One update by `_id`, not a find-and-modify: the embedded database answers
        every find-and-modify by reading the whole collection, an update by `_id`
        from its index (15 ms against 1 ms with 2,000 jobs pending). What the job
        holds after the update is known without reading it back: the candidate's
        fields, which never change, and one more claim."""
        claimed = await self._jobs.update_one(
            {"_id": job.id, "attempts": job.attempts, **self._claimable(now)},
            {"$set": {"leaseUntil": now + lease, "leaseOwner": owner}, "$inc": {"attempts": 1}},
        )
        if claimed.modified_count == 0:
            return None
        return Job(job.id, job.kind, job.ref, job.attempts + 1, owner, job.group)

    async def settle(
        self, job: Job, next_due: datetime | None, session: AsyncClientSession | None = None
    ) -> None:
        """Done (deleted), or due again at `next_due`, if the lease is still this claim's
        (else LeaseLost); inside the handler's transaction when it has one."""
        if next_due is None:
            deleted = await self._jobs.delete_one(
                {"_id": job.id, "leaseOwner": job.lease_owner}, session=session
            )
            if deleted.deleted_count == 0:
                raise LeaseLost(job.id)
            return
        state = _state(next_due)
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

    async def reschedule(
        self, job_id: str, due_at: datetime, session: AsyncClientSession | None = None
    ) -> bool:
        """Make an existing job due again at `due_at` (a redelivery); False if there is none."""
        result = await self._jobs.update_one(
            {"_id": job_id},
            {
                "$set": {
                    "status": PENDING,
                    "dueAt": due_at,
                    "attempts": 0,
                    "leaseUntil": None,
                    "leaseOwner": None,
                }
            },
            session=session,
        )
        return result.matched_count > 0

    async def release(self, job: Job) -> None:
        """Give the lease back (if still ours): the job is due again for any worker."""
        await self._jobs.update_one(
            {"_id": job.id, "leaseOwner": job.lease_owner},
            {"$set": {"leaseUntil": None, "leaseOwner": None}},
        )

    async def give_up(self, job: Job, error: str) -> None:
        """Stop retrying a job that keeps failing (if the lease is still ours)."""
        await self._jobs.update_one(
            {"_id": job.id, "leaseOwner": job.lease_owner},
            {
                "$set": {
                    "status": FAILED,
                    "finishedAt": datetime.now(UTC),
                    "leaseUntil": None,
                    "leaseOwner": None,
                    "lastError": error[:500],
                }
            },
        )

    async def get(self, job_id: str) -> Doc | None:
        return await self._jobs.find_one({"_id": job_id})
