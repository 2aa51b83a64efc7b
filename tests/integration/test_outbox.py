"""The outbox's fan-out against the embedded database: a fan-out that runs again
(its replica died after writing, before settling) writes each delivery once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from pymongo.asynchronous.client_session import AsyncClientSession

from incident_service.domain.notifications import Message
from incident_service.store.database import Database
from incident_service.store.jobs import JobStore, new_job
from incident_service.store.outbox import KIND, Outbox, fan_out_job, job_id
from incident_service.store.webhooks import WebhookStore

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


def endpoint_doc(n: int) -> dict[str, object]:
    return {
        "_id": f"{n:024x}",
        "url": f"https://hooks.example.com/{n}",
        "description": None,
        "eventTypes": ["incident.declared"],
        "serviceIds": [],
        "format": "STANDARD",
        "enabled": True,
        "createdAt": T0,
        "updatedAt": T0,
        "createdBy": "test",
        "version": 1,
        "secret": "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "consecutiveFailures": 0,
    }


def test_a_fan_out_that_runs_again_writes_each_delivery_and_job_once(mongo_uri: str) -> None:
    async def scenario() -> tuple[list[str], list[str], int]:
        db = Database(mongo_uri, f"outbox_{uuid.uuid4().hex[:8]}")
        await db.ensure_indexes()
        try:
            jobs = JobStore(db)
            outbox = Outbox(db, jobs)
            WebhookStore(db, jobs, outbox)
            await db.webhook_endpoints.insert_many([endpoint_doc(1), endpoint_doc(2)])
            message = Message("incident.declared", T0, {"incident": {"key": "INC-1"}})

            async def record(session: AsyncClientSession) -> None:
                await outbox.record([message], session)

            await db.transaction(record)
            [message_id] = [d["_id"] for d in await db.outbox.find().to_list()]

            # The first run writes and settles; then the job is back, as it would be
            # had its replica died between the writes and the settling.
            for owner in ("a", "b"):
                job = await jobs.claim_id(fan_out_job(message_id), T0, LEASE, owner)
                assert job is not None and job.ref == message_id
                await outbox.fan_out(job, T0)
                if owner == "a":
                    await db.jobs.insert_one(new_job(job_id(message_id), KIND, message_id, T0))
            deliveries = sorted(d["_id"] for d in await db.webhook_deliveries.find().to_list())
            delivery_jobs = sorted(
                d["ref"] for d in await db.jobs.find({"kind": "webhook"}).to_list()
            )
            fan_outs = await db.jobs.count_documents({"kind": KIND})
            return deliveries, delivery_jobs, fan_outs
        finally:
            await db.client.drop_database(db.db.name)
            await db.close()

    deliveries, delivery_jobs, fan_outs = asyncio.run(scenario())
    assert len(deliveries) == 2
    assert delivery_jobs == deliveries  # one job each, still to send
    assert fan_outs == 0
