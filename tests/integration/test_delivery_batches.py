"""Deliveries that succeeded at the fan-out's first attempt, written many to a document,
against the embedded database: one document for what is handed in together, the
delivery log paged newest first across batches and documents of their own, each
delivery once, and a fan-out that cannot write its batch keeps its job."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest
from pymongo.errors import PyMongoError

from incident_service.domain.notifications import Message
from incident_service.domain.webhooks import (
    AttemptRecord,
    DeliveryStatus,
    FirstAttempt,
    Verdict,
)
from incident_service.store.database import Database
from incident_service.store.delivery_batches import DeliveryBatches, WriterStopped
from incident_service.store.jobs import JobStore
from incident_service.store.outbox import KIND, Outbox, fan_out_job, record_id
from incident_service.store.webhooks import WebhookStore
from tests.integration.test_outbox import LEASE, T0, _recorded, _stores, endpoint_doc

A, B = str(endpoint_doc(1)["_id"]), str(endpoint_doc(2)["_id"])


@asynccontextmanager
async def _store(mongo_uri: str) -> AsyncIterator[tuple[Database, WebhookStore, Outbox]]:
    """A database of its own with the webhook store, batching what 0.2 s brings."""
    async with _stores(mongo_uri) as (db, jobs, outbox):
        yield db, WebhookStore(db, jobs, outbox, DeliveryBatches(db, seconds=0.2)), outbox


def settled(message: str, endpoint: str, minute: float) -> dict[str, object]:
    """A delivery as the fan-out writes one its first attempt settled."""
    at = T0 + timedelta(minutes=minute)
    return {
        "_id": record_id(message, endpoint),
        "endpointId": endpoint,
        "messageId": message,
        "type": "incident.declared",
        "status": "SUCCEEDED",
        "attempts": 1,
        "createdAt": at,
        "history": [{"at": at, "statusCode": 200, "latencyMs": 3, "error": None}],
    }


def own(message: str, endpoint: str, minute: float, status: str) -> dict[str, object]:
    """A delivery with a document of its own (pending, failed)."""
    return {**settled(message, endpoint, minute), "status": status, "attempts": 0, "history": []}


def test_deliveries_handed_in_together_share_one_document(mongo_uri: str) -> None:
    async def scenario() -> tuple[int, int, list[int]]:
        async with _store(mongo_uri) as (db, store, _):
            batches = db.webhook_delivery_batches
            counted: list[int] = []

            async def fan_out(n: int) -> None:
                at = n / 60  # seconds apart
                await store.batches.add([settled(f"msg_{n}", A, at), settled(f"msg_{n}", B, at)])
                # Written by the time `add` returns.
                counted.append(await batches.count_documents({"messageIds": f"msg_{n}"}))

            await asyncio.gather(*(fan_out(n) for n in range(5)))
            await fan_out(5)
            docs = await batches.find().to_list()
            return len(docs), sum(len(d["entries"]) for d in docs), counted

    documents, entries, counted = asyncio.run(scenario())
    assert documents == 2  # the five handed in together, then the sixth
    assert entries == 12
    assert counted == [1] * 6


def test_the_log_pages_newest_first_across_batches_each_delivery_once(mongo_uri: str) -> None:
    """Batches whose times overlap (a fan-out that ran late), deliveries of their own
    among them, another endpoint's in the same batches, and a batched delivery that
    was redelivered since: page by page, every delivery of the endpoint once, newest
    first, as it is now."""

    async def scenario() -> tuple[list[tuple[str, str]], list[str], list[str]]:
        async with _store(mongo_uri) as (db, store, _):
            await store.batches.add([settled("m0", A, 0), settled("m5", A, 5), settled("m5", B, 5)])
            await store.batches.add([settled("m3", A, 3), settled("m7", A, 7), settled("m6", A, 6)])
            await store.batches.add([settled("m9", A, 9)])
            await db.webhook_deliveries.insert_many(
                [own("m4", A, 4, "PENDING"), own("m8", A, 8, "FAILED"), own("m2", B, 2, "FAILED")]
            )
            redelivered = await store.delivery(record_id("m6", A))
            assert redelivered is not None and redelivered.status is DeliveryStatus.SUCCEEDED
            await store.redeliver(redelivered, T0 + timedelta(hours=1))

            async def pages(*statuses: DeliveryStatus) -> list[tuple[str, str]]:
                seen: list[tuple[str, str]] = []
                after = None
                while True:
                    page, more = await store.deliveries(A, statuses, 2, after)
                    seen += [(d.message_id, d.status.value) for d, _ in page]
                    if not more:
                        return seen
                    after = page[-1][1]

            every = await pages()
            succeeded = [m for m, _ in await pages(DeliveryStatus.SUCCEEDED)]
            pending = [m for m, _ in await pages(DeliveryStatus.PENDING)]
            return every, succeeded, pending

    every, succeeded, pending = asyncio.run(scenario())
    assert every == [
        ("m9", "SUCCEEDED"),
        ("m8", "FAILED"),
        ("m7", "SUCCEEDED"),
        ("m6", "PENDING"),
        ("m5", "SUCCEEDED"),
        ("m4", "PENDING"),
        ("m3", "SUCCEEDED"),
        ("m0", "SUCCEEDED"),
    ]
    assert succeeded == ["m9", "m7", "m5", "m3", "m0"]
    assert pending == ["m6", "m4"]


def test_a_fan_out_whose_batch_cannot_be_written_keeps_its_job(mongo_uri: str) -> None:
    """Its message was sent: the job stays, for another run to send it again under the
    same `webhook-id`, and nothing claims the delivery was logged."""

    async def scenario() -> tuple[int, int]:
        async with _store(mongo_uri) as (db, _, outbox):
            await db.webhook_endpoints.insert_one(endpoint_doc(1))
            # Every batch refused, as a write the database cannot take would be.
            await db.db.command(
                "collMod", "webhook_delivery_batches", validator={"entries": {"$size": 0}}
            )
            declared = Message("incident.declared", T0, {"incident": {"key": "INC-1"}})
            message_id = await _recorded(db, outbox, declared)
            job = await JobStore(db).claim_id(fan_out_job(message_id), T0, LEASE, "worker:1")
            assert job is not None
            record = AttemptRecord(T0, 200, 3, None)
            sent = {A: FirstAttempt(record, Verdict(DeliveryStatus.SUCCEEDED, None, False))}
            with pytest.raises(PyMongoError):
                await outbox.fan_out(job, T0, sent)
            fan_outs = await db.jobs.count_documents({"kind": KIND})
            return fan_outs, await db.webhook_delivery_batches.count_documents({})

    assert asyncio.run(scenario()) == (1, 0)


def test_a_batched_delivery_is_found_by_its_id_only_where_it_is(mongo_uri: str) -> None:
    """A batch may hold a message (to one endpoint) and an endpoint (for another
    message) without holding that message to that endpoint."""

    async def scenario() -> tuple[str | None, str | None, str | None]:
        async with _store(mongo_uri) as (_, store, _outbox):
            await store.batches.add([settled("m1", B, 1), settled("m2", A, 1)])
            await store.batches.add([settled("m1", A, 2)])
            found = await store.delivery(record_id("m1", A))
            other = await store.delivery(record_id("m2", A))
            missing = await store.delivery(record_id("m2", B))
            return (
                found and found.message_id,
                other and other.message_id,
                missing and missing.message_id,
            )

    assert asyncio.run(scenario()) == ("m1", "m2", None)


def test_a_fan_out_waiting_when_the_writer_stops_fails_instead_of_hanging(
    mongo_uri: str,
) -> None:
    """Its job then runs again (here or on another replica), as after any failure."""

    async def scenario() -> BaseException | None:
        async with _store(mongo_uri) as (db, _, _outbox):
            batches = DeliveryBatches(db, seconds=5)
            waiting = asyncio.create_task(batches.add([settled("m1", A, 1)]))
            await asyncio.sleep(0.1)
            assert batches._writer is not None
            batches._writer.cancel()
            try:
                await asyncio.wait_for(waiting, 5)
            except WriterStopped as exc:
                return exc
            return None

    assert isinstance(asyncio.run(scenario()), WriterStopped)
