"""The outbox's fan-out against the embedded database: a fan-out that runs again
(its replica died after writing, before settling) writes each delivery once,
leaves no stored delivery without its job, and sends no email twice."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from pymongo.asynchronous.client_session import AsyncClientSession

from incident_service.domain.notifications import Message
from incident_service.domain.subscribers import parse_smtp_url
from incident_service.jobs.email import EmailSender, SmtpMailer
from incident_service.store.database import Database
from incident_service.store.jobs import Job, JobStore, candidate, new_job
from incident_service.store.outbox import KIND, Outbox, fan_out_job, job_id
from incident_service.store.subscribers import SubscriberStore
from incident_service.store.webhooks import WebhookStore
from tests.support.mailbox import mailbox

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


@asynccontextmanager
async def _stores(mongo_uri: str) -> AsyncIterator[tuple[Database, JobStore, Outbox]]:
    """A database of its own, dropped afterwards, with its job store and outbox."""
    db = Database(mongo_uri, f"outbox_{uuid.uuid4().hex[:8]}")
    await db.ensure_indexes()
    try:
        jobs = JobStore(db)
        yield db, jobs, Outbox(db, jobs)
    finally:
        await db.client.drop_database(db.db.name)
        await db.close()


async def _two_endpoints(db: Database, jobs: JobStore, outbox: Outbox) -> str:
    """Two endpoints on `incident.declared` and one such message recorded; its id."""
    WebhookStore(db, jobs, outbox)
    await db.webhook_endpoints.insert_many([endpoint_doc(1), endpoint_doc(2)])
    return await _recorded(
        db, outbox, Message("incident.declared", T0, {"incident": {"key": "INC-1"}})
    )


def test_a_fan_out_that_runs_again_writes_each_delivery_and_job_once(mongo_uri: str) -> None:
    async def scenario() -> tuple[list[str], list[str], int]:
        async with _stores(mongo_uri) as (db, jobs, outbox):
            message_id = await _two_endpoints(db, jobs, outbox)

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

    deliveries, delivery_jobs, fan_outs = asyncio.run(scenario())
    assert len(deliveries) == 2
    assert delivery_jobs == deliveries  # one job each, still to send
    assert fan_outs == 0


async def _fan_out_again(db: Database, jobs: JobStore, outbox: Outbox, message_id: str) -> None:
    """The fan-out job back as a replica that died before settling it leaves it, claimed
    by another (its second attempt), and run."""
    doc = {**new_job(job_id(message_id), KIND, message_id, T0), "attempts": 1}
    await db.jobs.insert_one(doc)
    job = await jobs.claim_id(candidate(doc), T0, LEASE, "second")
    assert job is not None and job.attempts == 2
    await outbox.fan_out(job, T0)


async def _recorded(db: Database, outbox: Outbox, message: Message) -> str:
    async def record(session: AsyncClientSession) -> None:
        await outbox.record([message], session)

    await db.transaction(record)
    [message_id] = [d["_id"] for d in await db.outbox.find().to_list()]
    return message_id


def test_a_delivery_written_before_a_crash_gets_its_job_even_if_its_endpoint_changed(
    mongo_uri: str,
) -> None:
    """The first run wrote the deliveries and died before their jobs; meanwhile one
    endpoint stopped wanting the event. Every stored pending delivery still gets a job."""

    async def scenario() -> tuple[list[str], list[str]]:
        async with _stores(mongo_uri) as (db, jobs, outbox):
            message_id = await _two_endpoints(db, jobs, outbox)
            job = await jobs.claim_id(fan_out_job(message_id), T0, LEASE, "first")
            assert job is not None
            await outbox.fan_out(job, T0)
            await db.jobs.delete_many({"kind": "webhook"})  # never written: the crash
            await db.webhook_endpoints.update_one(
                {"_id": endpoint_doc(2)["_id"]}, {"$set": {"eventTypes": ["incident.resolved"]}}
            )
            await _fan_out_again(db, jobs, outbox, message_id)
            deliveries = sorted(d["_id"] for d in await db.webhook_deliveries.find().to_list())
            refs = sorted(d["ref"] for d in await db.jobs.find({"kind": "webhook"}).to_list())
            return deliveries, refs

    deliveries, refs = asyncio.run(scenario())
    assert len(deliveries) == 2
    assert refs == deliveries


def test_a_fan_out_that_runs_again_after_its_emails_went_out_sends_none_twice(
    mongo_uri: str,
) -> None:
    with mailbox() as box:

        async def scenario() -> tuple[int, int, int]:
            async with _stores(mongo_uri) as (db, jobs, outbox):
                subscribers = SubscriberStore(
                    db,
                    jobs,
                    outbox,
                    confirm_lifetime=timedelta(days=1),
                    address_interval=timedelta(minutes=1),
                )
                sender = EmailSender(
                    subscribers,
                    SmtpMailer(parse_smtp_url(box.url)),
                    sender="status@example.com",
                    site="Example status",
                    page_url="https://status.example.com",
                )
                await db.subscribers.insert_one(
                    {
                        "_id": "s1",
                        "email": "sre@example.com",
                        "emailKey": "sre@example.com",
                        "serviceIds": [],
                        "confirmed": True,
                        "createdAt": T0,
                        "unsubscribeToken": "su_" + "u" * 43,
                    }
                )
                public = {
                    "kind": "incident",
                    "title": "Checkout is down",
                    "publicStatus": "INVESTIGATING",
                    "key": "INC-1",
                    "body": "We are looking into it",
                }
                message_id = await _recorded(
                    db, outbox, Message("incident.update_posted", T0, {}, public=public)
                )

                async def send_emails() -> None:
                    for doc in await db.jobs.find({"kind": "email"}).to_list():
                        claimed = await jobs.claim_id(candidate(doc), T0, LEASE, "sender")
                        assert isinstance(claimed, Job)
                        await sender.send(claimed, T0)

                job = await jobs.claim_id(fan_out_job(message_id), T0, LEASE, "first")
                assert job is not None
                await outbox.fan_out(job, T0)
                await send_emails()
                first = len(box.to("sre@example.com"))
                await _fan_out_again(db, jobs, outbox, message_id)
                await send_emails()
                left = await db.jobs.count_documents({"kind": "email"})
                return first, len(box.to("sre@example.com")), left

        first, total, left = asyncio.run(scenario())
    assert first == 1
    assert total == 1
    assert left == 0
