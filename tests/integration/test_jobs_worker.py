"""The job worker against the real database: stopping hands unfinished jobs back at once;
jobs written already leased run on their writer without a claim."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from incident_service.domain.notifications import Message
from incident_service.jobs.worker import Worker
from incident_service.store.database import Database
from incident_service.store.jobs import Job, JobStore, Leases, new_job
from incident_service.store.outbox import KIND, Outbox, job_id, leased_fan_out
from tests.support.stores import stores


async def _database(mongo_uri: str) -> tuple[Database, JobStore]:
    """A database of its own (the caller drops it) and its job store."""
    made = await stores(mongo_uri, "worker")
    return made.db, made.jobs


def test_a_stopped_worker_releases_the_jobs_it_could_not_finish(mongo_uri: str) -> None:
    async def scenario() -> None:
        db, jobs = await _database(mongo_uri)
        started = asyncio.Event()
        finished: list[str] = []

        async def slow(job: Job, now: datetime) -> None:
            started.set()
            await asyncio.sleep(3600)  # a receiver that never answers

        async def quick(job: Job, now: datetime) -> None:
            finished.append(job.id)

            async def settle(session: AsyncClientSession) -> None:
                await jobs.settle(job, None, session)

            await db.transaction(settle)

        stuck = Worker(jobs, {"slow": slow}, now=lambda: datetime.now(UTC), poll_interval=0.1,
                       lease=3600)  # fmt: skip
        try:

            async def enqueue(session: AsyncClientSession) -> None:
                await jobs.enqueue([new_job("slow:1", "slow", "1", datetime.now(UTC))], session)

            await db.transaction(enqueue)
            await stuck.start()
            await asyncio.wait_for(started.wait(), 10)
            held = await jobs.get("slow:1")
            assert held is not None and held["leaseOwner"].startswith(stuck.owner)
            await stuck.stop(grace=0.2)
            released = await jobs.get("slow:1")
            # Its lease (an hour) is given back: any worker may take it now.
            assert released is not None and released["leaseOwner"] is None
            assert released["leaseUntil"] is None and released["status"] == "PENDING"
            other = Worker(jobs, {"slow": quick}, now=lambda: datetime.now(UTC),
                           poll_interval=0.1, lease=30)  # fmt: skip
            assert await other.tick() == 1 and finished == ["slow:1"]
        finally:
            await db.client.drop_database(db.db.name)

    asyncio.run(scenario())


def test_a_fan_out_written_leased_is_run_by_its_writer_and_by_another_once_the_lease_ran_out(
    mongo_uri: str,
) -> None:
    """The outbox writes a message's fan-out job leased to the writing process's worker:
    that worker runs it without a claim, no other can claim it while the lease runs, and
    once it ran out (the writer died) any worker's search finds it."""

    async def scenario() -> None:
        db, jobs = await _database(mongo_uri)
        ran: list[tuple[str, str, int]] = []

        async def fan_out(job: Job, now: datetime) -> None:
            ran.append((job.ref, job.lease_owner, job.attempts))
            await jobs.settle(job, None)

        def worker(leases: Leases) -> Worker:
            return Worker(jobs, {KIND: fan_out}, now=lambda: datetime.now(UTC),
                          poll_interval=0.1, lease=30, leases=leases)  # fmt: skip

        async def record(outbox: Outbox, at: datetime) -> dict[str, Any]:
            ids: list[str] = []

            async def body(session: AsyncClientSession) -> None:
                ids[:] = await outbox.record([Message("incident.declared", at, {})], session)

            await db.transaction(body)
            return await db.outbox.find_one({"_id": ids[0]})  # type: ignore[no-any-return]

        writer_leases, other_leases = Leases(30), Leases(30)
        writer, other = worker(writer_leases), worker(other_leases)
        outbox = Outbox(db, jobs, writer_leases)
        try:
            now = datetime.now(UTC)
            message = await record(outbox, now)
            leased = leased_fan_out(message)
            assert leased is not None and writer.owns(leased) and not other.owns(leased)
            stored = await jobs.get(leased.id)
            assert stored is not None and stored["leaseOwner"] == leased.lease_owner
            assert stored["attempts"] == 1 and stored["leaseUntil"] is not None
            until = stored["leaseUntil"].replace(tzinfo=UTC) - now
            assert abs(until - timedelta(seconds=30)) < timedelta(milliseconds=1)
            # Nobody else may claim it while the lease runs.
            assert await other.tick() == 0
            await writer.start()
            writer.run_leased(leased)
            await wait_until(lambda: len(ran) == 1)
            assert ran == [(message["_id"], leased.lease_owner, 1)]
            assert await jobs.get(leased.id) is None  # settled

            # A writer that dies before running it: after the lease any worker does.
            late = await record(outbox, now - timedelta(seconds=31))
            assert await other.tick() == 1
            [(ref, owner, attempts)] = ran[1:]
            assert ref == late["_id"] and other_leases.mine(owner) and attempts == 2
        finally:
            await writer.stop()
            await db.client.drop_database(db.db.name)

    asyncio.run(scenario())


def test_a_stopped_worker_hands_back_the_leased_jobs_it_had_no_slot_for(mongo_uri: str) -> None:
    async def scenario() -> None:
        db, jobs = await _database(mongo_uri)
        started = asyncio.Event()

        async def slow(job: Job, now: datetime) -> None:
            started.set()
            await asyncio.sleep(3600)

        leases = Leases(3600)
        busy = Worker(jobs, {KIND: slow}, now=lambda: datetime.now(UTC), poll_interval=0.1,
                      lease=3600, leases=leases)  # fmt: skip
        outbox = Outbox(db, jobs, leases)
        try:
            for _ in range(2):

                async def body(session: AsyncClientSession) -> None:
                    await outbox.record([Message("incident.declared", datetime.now(UTC), {})],
                                        session)  # fmt: skip

                await db.transaction(body)
            messages = await db.outbox.find().to_list()
            await busy.start()
            for message in messages:
                leased = leased_fan_out(message)
                assert leased is not None
                busy.run_leased(leased)  # one slot: the second waits
            await asyncio.wait_for(started.wait(), 10)
            await busy.stop(grace=0.2)
            for message in messages:
                stored = await jobs.get(job_id(message["_id"]))
                # Both leases (an hour) given back: the running one and the waiting one.
                assert stored is not None and stored["leaseOwner"] is None
        finally:
            await db.client.drop_database(db.db.name)

    asyncio.run(scenario())


async def wait_until(done: Callable[[], bool], timeout: float = 10) -> None:
    async def poll() -> None:
        while not done():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), timeout)
