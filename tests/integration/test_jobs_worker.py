"""The job worker against the real database: stopping hands unfinished jobs back at once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from pymongo.asynchronous.client_session import AsyncClientSession

from incident_service.jobs.worker import Worker
from incident_service.store.database import Database
from incident_service.store.jobs import Job, JobStore, new_job


def test_a_stopped_worker_releases_the_jobs_it_could_not_finish(mongo_uri: str) -> None:
    name = f"worker_{uuid.uuid4().hex[:8]}"

    async def scenario() -> None:
        db = Database(mongo_uri, name)
        await db.ensure_indexes()
        jobs = JobStore(db)
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
            await db.client.drop_database(name)

    asyncio.run(scenario())
