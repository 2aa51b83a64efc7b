"""Webhook deliveries settled by their first attempt, written many to a document.

Most deliveries succeed at the first attempt their message's fan-out makes
(jobs/webhooks.py) and never change again. Written one document each, they
were most of what webhooks cost the database at saturation: each document's
insert, its index entries, and the change stream skipping it again
(docs/benchmarks.md). So the fan-outs of one process hand these deliveries
to a `DeliveryBatches`, which writes everything handed in within
BATCH_SECONDS as one document (a group commit); a fan-out settles its job
only once its deliveries are written, so a replica that dies before leaves
the fan-out to run again (same `webhook-id`).

A delivery with a further life (pending, retried, cancelled, redelivered)
has a document of its own in `webhook_deliveries`, which supersedes any
batched entry of the same id: a fan-out that ran twice, or a redelivery,
may leave one behind, and the log shows each delivery once
(store/webhooks.py `deliveries`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from datetime import datetime, timedelta

from bson import ObjectId
from pymongo.errors import PyMongoError

from incident_service.domain.webhooks import DeliveryStatus
from incident_service.store.codec import Doc
from incident_service.store.database import Database
from incident_service.store.outbox import record_id

#: How long the first settled delivery waits for others to share its document.
#: Only the fan-out's job waits: the message was sent already.
BATCH_SECONDS = 0.1
#: Written at once, without waiting the rest of BATCH_SECONDS, when this many
#: fan-outs wait: each holds one of the worker's slots meanwhile (the runtime passes
#: half of JOBS_CONCURRENCY).
FLUSH_AT = 8
#: At most this many deliveries in one document (about 300 bytes each, far below the
#: 16 MB a document may hold).
BATCH_LIMIT = 10_000
#: At most this far apart in time (`createdAt`) are the deliveries of one document,
#: so a page of the log reads only the batches near its cursor (`newest_first`).
SPAN = timedelta(minutes=1)
COLLECTION = "webhook_delivery_batches"


class WriterStopped(Exception):
    """The process is stopping: these deliveries were not written."""


def entry(delivery: Doc) -> Doc:
    """A settled delivery document (store/webhooks.py) as a batch entry: what the
    document says that its place in the batch does not."""
    attempt = delivery["history"][-1]
    return {
        "messageId": delivery["messageId"],
        "endpointId": delivery["endpointId"],
        "type": delivery["type"],
        "createdAt": delivery["createdAt"],
        "attempt": attempt,
    }


def delivery_doc(e: Doc) -> Doc:
    """A batch entry as the delivery document it stands for."""
    attempt = e["attempt"]
    return {
        "_id": record_id(e["messageId"], e["endpointId"]),
        "endpointId": e["endpointId"],
        "messageId": e["messageId"],
        "type": e["type"],
        "status": DeliveryStatus.SUCCEEDED.value,
        "attempts": 1,
        "createdAt": e["createdAt"],
        "nextAttemptAt": None,
        "deliveredAt": attempt["at"],
        "history": [attempt],
        "error": None,
    }


def batch_doc(entries: list[Doc]) -> Doc:
    times = [e["createdAt"] for e in entries]
    return {
        "_id": ObjectId(),
        "newest": max(times),
        "oldest": min(times),
        "endpointIds": sorted({e["endpointId"] for e in entries}),
        "messageIds": sorted({e["messageId"] for e in entries}),
        "entries": entries,
    }


def batch_docs(entries: list[Doc]) -> list[Doc]:
    """The documents that hold `entries`: at most BATCH_LIMIT each, spanning at most
    SPAN (a fan-out that ran late, after its replica died, hands in old ones)."""
    chunks: list[list[Doc]] = []
    for e in sorted(entries, key=lambda e: e["createdAt"]):
        chunk = chunks[-1] if chunks else None
        if (
            chunk is None
            or len(chunk) >= BATCH_LIMIT
            or e["createdAt"] - chunk[0]["createdAt"] > SPAN
        ):
            chunks.append([e])
        else:
            chunk.append(e)
    return [batch_doc(chunk) for chunk in chunks]


def newest_first_key(doc: Doc) -> tuple[datetime, str]:
    """The delivery log's order (newest first when reversed), on delivery documents."""
    return doc["createdAt"], doc["_id"]


class DeliveryBatches:
    """The `webhook_delivery_batches` collection, and this process's writer of it."""

    def __init__(
        self, database: Database, seconds: float = BATCH_SECONDS, flush_at: int = FLUSH_AT
    ) -> None:
        self._db = database
        self._batches = database.webhook_delivery_batches
        self._seconds = seconds
        self._flush_at = flush_at
        self._pending: list[Doc] = []
        self._waiting: list[asyncio.Future[None]] = []
        self._enough = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None

    async def add(self, deliveries: list[Doc]) -> None:
        """Write these settled deliveries (as store/webhooks.py makes them) with those
        other fan-outs hand in meanwhile; returns once they are written, and raises
        what the write raised."""
        if not deliveries:
            return
        done = asyncio.get_running_loop().create_future()
        # Its failure is the fan-out's to raise; one that stopped waiting never reads it.
        done.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._pending.extend(entry(d) for d in deliveries)
        self._waiting.append(done)
        if len(self._waiting) >= self._flush_at:
            self._enough.set()
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_all(), name="delivery-batches")
        # A fan-out cancelled while it waits leaves its deliveries to be written anyway.
        await asyncio.shield(done)

    async def _write_all(self) -> None:
        try:
            while self._pending:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._enough.wait(), self._seconds)
                self._enough.clear()
                entries, self._pending = self._pending, []
                waiting, self._waiting = self._waiting, []
                try:
                    await self._insert(batch_docs(entries))
                except Exception as exc:
                    _settle(waiting, exc)
                except BaseException:
                    _settle(waiting, WriterStopped())
                    raise
                else:
                    _settle(waiting, None)
        finally:
            self._writer = None
            # Stopped (cancelled) with deliveries handed in: their fan-outs fail and run
            # again, here or on another replica.
            _settle(self._waiting, WriterStopped())
            self._pending, self._waiting = [], []

    async def _insert(self, docs: list[Doc]) -> None:
        try:
            await self._db.insert_new(COLLECTION, docs)
        except PyMongoError:
            # Once more, the same documents (a lost answer, a failover): those the
            # database took already are skipped. Else every waiting fan-out sends again.
            await self._db.insert_new(COLLECTION, docs)

    async def close(self) -> None:
        """Write what was handed in (on the way out)."""
        if self._writer is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._writer)

    async def newest_first(
        self, endpoint_id: str, before: tuple[datetime, str] | None, enough: int
    ) -> list[Doc]:
        """Up to `enough` of the endpoint's batched deliveries (as delivery documents),
        newest first, strictly before `before` (createdAt, id) when given.

        Batches are read newest first until no further one can hold a delivery newer
        than the `enough`-th found: a batch's entries may be older than the
        next batch's (a fan-out that ran late), never newer than its `newest`."""
        query: Doc = {"endpointIds": endpoint_id}
        if before is not None:
            # The index range: a batch newer than this holds nothing before `before`.
            query["newest"] = {"$lte": before[0] + SPAN}
            query["oldest"] = {"$lte": before[0]}
        found: list[Doc] = []
        # A fan-out that ran twice may have batched a delivery twice: it is listed once.
        ids: set[str] = set()
        cursor = self._batches.find(query).sort([("newest", -1), ("_id", -1)])
        async for batch in cursor:
            if len(found) >= enough and batch["newest"] < found[-1]["createdAt"]:
                break
            for e in batch["entries"]:
                if e["endpointId"] != endpoint_id:
                    continue
                doc = delivery_doc(e)
                if (before is None or newest_first_key(doc) < before) and doc["_id"] not in ids:
                    found.append(doc)
                    ids.add(doc["_id"])
            found.sort(key=newest_first_key, reverse=True)
            for gone in found[enough:]:
                ids.discard(gone["_id"])
            del found[enough:]
        await cursor.close()
        return found

    async def find(self, message_id: str, endpoint_id: str) -> Doc | None:
        """The batched delivery of this message to this endpoint, as a delivery document."""
        wanted = {"messageId": message_id, "endpointId": endpoint_id}
        batch = await self._batches.find_one(
            {"messageIds": message_id, "entries": {"$elemMatch": wanted}},
            {"entries": {"$elemMatch": wanted}},
        )
        if batch is None or not batch.get("entries"):
            return None
        return delivery_doc(batch["entries"][0])


def _settle(waiting: Iterable[asyncio.Future[None]], exc: Exception | None) -> None:
    for future in waiting:
        if future.done():
            continue
        if exc is None:
            future.set_result(None)
        else:
            future.set_exception(exc)
