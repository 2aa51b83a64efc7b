"""Webhook endpoints and their delivery log.

An endpoint is an audience of the outbox: fanning a message out records one
delivery per endpoint that wants it. One that succeeded at the fan-out's
first attempt goes into a batch shared with other fan-outs'
(store/delivery_batches.py); any other is a document of its own with a job
(grouped by endpoint, so the worker runs few of one endpoint's deliveries at
a time). The dispatcher (jobs/webhooks.py) does the HTTP request outside any
transaction and writes what happened with `record_attempt`, guarded by the
delivery's attempt count and the job's lease.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from bson import ObjectId
from cachetools import TTLCache
from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession

from incident_service.domain import notifications
from incident_service.domain.errors import not_found
from incident_service.domain.notifications import Message
from incident_service.domain.webhooks import (
    ROTATION_OVERLAP,
    AttemptRecord,
    Delivery,
    DeliveryStatus,
    Endpoint,
    EndpointSpec,
    FirstAttempt,
    Verdict,
    WebhookFormat,
    mint_secret,
)
from incident_service.store.codec import Doc
from incident_service.store.database import Database
from incident_service.store.delivery_batches import DeliveryBatches, newest_first_key
from incident_service.store.jobs import Job, JobStore, LeaseLost, new_job
from incident_service.store.outbox import (
    Outbox,
    Recipients,
    record_id,
    record_parts,
    records_of,
)
from incident_service.store.paging import (
    Order,
    after_filter,
    decode_cursor,
    decode_keys,
    encode_cursor,
)

KIND = "webhook"
ORDER = Order("NEWEST_FIRST", (("createdAt", -1), ("_id", -1)))
#: Attempts kept in a delivery's history.
HISTORY = 10
#: How long a replica's dispatcher uses an endpoint as it read it. A change made on
#: one replica (disabled, deleted, secret rotated) reaches deliveries sent by the
#: others within this time; on the replica that made it, at once.
ENDPOINT_CACHE_SECONDS = 1.0
_UNREAD = object()


def endpoint_to_doc(e: Endpoint) -> Doc:
    return {
        "_id": e.id,
        "url": e.url,
        "description": e.description,
        "eventTypes": list(e.event_types),
        "serviceIds": list(e.service_ids),
        "format": e.format.value,
        "enabled": e.enabled,
        "createdAt": e.created_at,
        "updatedAt": e.updated_at,
        "createdBy": e.created_by,
        "version": e.version,
        "secret": e.secret,
        "previousSecret": e.previous_secret,
        "previousSecretUntil": e.previous_secret_until,
        "disabledReason": e.disabled_reason,
        "disabledAt": e.disabled_at,
        "consecutiveFailures": e.consecutive_failures,
    }


def endpoint_from_doc(d: Doc) -> Endpoint:
    return Endpoint(
        id=d["_id"],
        url=d["url"],
        description=d.get("description"),
        event_types=tuple(d["eventTypes"]),
        service_ids=tuple(d.get("serviceIds", ())),
        format=WebhookFormat(d["format"]),
        enabled=d["enabled"],
        created_at=d["createdAt"],
        updated_at=d["updatedAt"],
        created_by=d.get("createdBy", "unknown"),
        version=d["version"],
        secret=d["secret"],
        previous_secret=d.get("previousSecret"),
        previous_secret_until=d.get("previousSecretUntil"),
        disabled_reason=d.get("disabledReason"),
        disabled_at=d.get("disabledAt"),
        consecutive_failures=d.get("consecutiveFailures", 0),
    )


def _attempt_to_doc(a: AttemptRecord) -> Doc:
    return {"at": a.at, "statusCode": a.status_code, "latencyMs": a.latency_ms, "error": a.error}


def _attempt_from_doc(d: Mapping[str, Any]) -> AttemptRecord:
    return AttemptRecord(d["at"], d.get("statusCode"), d.get("latencyMs", 0), d.get("error"))


def delivery_from_doc(d: Doc) -> Delivery:
    history = tuple(_attempt_from_doc(a) for a in d.get("history", ()))
    return Delivery(
        id=d["_id"],
        endpoint_id=d["endpointId"],
        message_id=d["messageId"],
        type=d["type"],
        status=DeliveryStatus(d["status"]),
        attempts=d.get("attempts", 0),
        created_at=d["createdAt"],
        next_attempt_at=d.get("nextAttemptAt"),
        delivered_at=d.get("deliveredAt"),
        last_attempt=history[-1] if history else None,
        history=history,
        error=d.get("error"),
    )


def _new_delivery(
    message_id: str, message: Message, endpoint_id: str, first: FirstAttempt | None
) -> Doc:
    """A delivery as the fan-out writes it: pending, or with the outcome of the
    first attempt the fan-out made itself."""
    doc: Doc = {
        "_id": record_id(message_id, endpoint_id),
        "endpointId": endpoint_id,
        "messageId": message_id,
        "type": message.type,
        "status": DeliveryStatus.PENDING.value,
        "attempts": 0,
        "createdAt": message.at,
        "nextAttemptAt": message.at,
        "history": [],
    }
    if first is not None:
        doc["status"] = first.verdict.status.value
        doc["nextAttemptAt"] = first.verdict.next_attempt_at
        if first.record is not None:
            doc["attempts"] = 1
            doc["history"] = [_attempt_to_doc(first.record)]
            doc["error"] = first.record.error
            if first.verdict.status is DeliveryStatus.SUCCEEDED:
                doc["deliveredAt"] = first.record.at
    return doc


def job_id(delivery_id: str) -> str:
    return f"{KIND}:{delivery_id}"


class WebhookStore:
    """Endpoints (ADMIN-managed) and the deliveries of outbox messages to them."""

    def __init__(
        self,
        database: Database,
        jobs: JobStore,
        outbox: Outbox,
        batches: DeliveryBatches | None = None,
    ) -> None:
        self._db = database
        self._jobs = jobs
        self._outbox = outbox
        # Deliveries that succeeded at the fan-out's first attempt, many to a document.
        self.batches = batches or DeliveryBatches(database)
        outbox.add_audience(self)
        # The dispatcher's reads of endpoints: one per endpoint per second, not one per
        # delivery (None: the endpoint does not exist).
        self._endpoints: TTLCache[str, Endpoint | None] = TTLCache(1024, ENDPOINT_CACHE_SECONDS)
        self._live: TTLCache[str, list[Endpoint]] = TTLCache(1, ENDPOINT_CACHE_SECONDS)

    # Endpoints

    async def create(self, spec: EndpointSpec, *, now: datetime, actor: str) -> Endpoint:
        endpoint = Endpoint(
            id=str(ObjectId()),
            url=spec.url,
            description=spec.description,
            event_types=spec.event_types,
            service_ids=spec.service_ids,
            format=spec.format,
            enabled=True,
            created_at=now,
            updated_at=now,
            created_by=actor,
            version=1,
            secret=mint_secret(),
        )
        # Before the endpoint is written: from now on every change writes its messages.
        await self._outbox.audience_arriving()
        await self._db.webhook_endpoints.insert_one(endpoint_to_doc(endpoint))
        self._forget(endpoint.id)
        return endpoint

    def _forget(self, endpoint_id: str) -> None:
        """This replica changed the endpoint: its dispatcher reads it again."""
        self._endpoints.pop(endpoint_id, None)
        self._live.clear()

    async def get(self, endpoint_id: str) -> Endpoint | None:
        if not ObjectId.is_valid(endpoint_id):
            return None
        doc = await self._db.webhook_endpoints.find_one({"_id": endpoint_id})
        return endpoint_from_doc(doc) if doc else None

    async def require(self, endpoint_id: str, field: str = "id") -> Endpoint:
        endpoint = await self.get(endpoint_id)
        if endpoint is None:
            raise not_found("webhook endpoint", field)
        return endpoint

    async def all(self) -> list[Endpoint]:
        docs = await self._db.webhook_endpoints.find().sort(ORDER.sort).to_list()
        return [endpoint_from_doc(d) for d in docs]

    async def save(self, before: Endpoint, after: Endpoint) -> Endpoint | None:
        """Write `after` if the endpoint is still at `before`'s version; None if it moved."""
        after = replace(after, version=before.version + 1)
        result = await self._db.webhook_endpoints.replace_one(
            {"_id": before.id, "version": before.version}, endpoint_to_doc(after)
        )
        self._forget(before.id)
        return after if result.matched_count else None

    async def rotate_secret(self, endpoint: Endpoint, now: datetime) -> Endpoint | None:
        rotated = replace(
            endpoint,
            secret=mint_secret(),
            previous_secret=endpoint.secret,
            previous_secret_until=now + ROTATION_OVERLAP,
            updated_at=now,
        )
        return await self.save(endpoint, rotated)

    async def delete(self, endpoint_id: str, now: datetime) -> bool:
        """Remove the endpoint; its pending deliveries are cancelled."""

        deleted = False

        async def txn(session: AsyncClientSession) -> None:
            nonlocal deleted
            result = await self._db.webhook_endpoints.delete_one(
                {"_id": endpoint_id}, session=session
            )
            deleted = bool(result.deleted_count)
            if deleted:
                await self._db.webhook_deliveries.update_many(
                    {"endpointId": endpoint_id, "status": DeliveryStatus.PENDING.value},
                    {
                        "$set": {
                            "status": DeliveryStatus.CANCELLED.value,
                            "error": "the endpoint was deleted",
                            "nextAttemptAt": None,
                        }
                    },
                    session=session,
                )

        await self._db.transaction(txn)
        self._forget(endpoint_id)
        return deleted

    # Fan-out (the outbox audience)

    async def recipients(
        self,
        message_id: str,
        message: Message,
        target: str | None,
        sent: Mapping[str, FirstAttempt],
    ) -> Recipients | None:
        query: Doc = {"enabled": True}
        if target is not None:
            query = {"_id": target}
        elif message.type == notifications.WEBHOOK_TEST:
            return None
        endpoints = await self._db.webhook_endpoints.find(query).to_list()
        deliveries: list[Doc] = []
        for doc in endpoints:
            endpoint = endpoint_from_doc(doc)
            first = sent.get(endpoint.id)
            if (
                first is None
                and target is None
                and not notifications.wanted(endpoint.event_types, endpoint.service_ids, message)
            ):
                continue
            deliveries.append(_new_delivery(message_id, message, endpoint.id, first))
        if not deliveries:
            return None
        succeeded = DeliveryStatus.SUCCEEDED.value
        jobs = [
            new_job(job_id(d["_id"]), KIND, d["_id"], d["nextAttemptAt"], d["endpointId"])
            for d in deliveries
            if d["status"] == DeliveryStatus.PENDING.value
        ]
        return Recipients(
            "webhook_deliveries",
            [d for d in deliveries if d["status"] != succeeded],
            jobs,
            settled=[d for d in deliveries if d["status"] == succeeded],
            log=self.batches,
        )

    async def pending_jobs(self, message_id: str, now: datetime) -> list[Doc]:
        """Jobs for this message's deliveries still pending, as stored."""
        deliveries = await self._db.webhook_deliveries.find(
            {
                **records_of(message_id),
                "status": DeliveryStatus.PENDING.value,
            },
            projection={"endpointId": 1, "nextAttemptAt": 1},
        ).to_list()
        return [
            new_job(
                job_id(d["_id"]), KIND, d["_id"], d.get("nextAttemptAt") or now, d["endpointId"]
            )
            for d in deliveries
        ]

    async def live_endpoints(self) -> list[Endpoint]:
        """The enabled endpoints, as read at most ENDPOINT_CACHE_SECONDS ago."""
        live = self._live.get("all")
        if live is None:
            docs = await self._db.webhook_endpoints.find({"enabled": True}).to_list()
            live = self._live["all"] = [endpoint_from_doc(d) for d in docs]
        return live

    async def send_test(self, endpoint: Endpoint, message: Message) -> str:
        """A test message for this one endpoint, through the outbox like any other."""
        ids: list[str] = []

        async def txn(session: AsyncClientSession) -> None:
            ids[:] = await self._outbox.record([message], session, target=endpoint.id)

        await self._db.transaction(txn)
        return record_id(ids[0], endpoint.id)

    # Deliveries

    async def delivery(self, delivery_id: str) -> Delivery | None:
        doc = await self._db.webhook_deliveries.find_one({"_id": delivery_id})
        if doc is None and "." in delivery_id:
            doc = await self.batches.find(*record_parts(delivery_id))
        return delivery_from_doc(doc) if doc else None

    async def deliveries(
        self,
        endpoint_id: str,
        statuses: tuple[DeliveryStatus, ...],
        first: int,
        after: str | None,
    ) -> tuple[list[tuple[Delivery, str]], bool]:
        query: Doc = {"endpointId": endpoint_id}
        if statuses:
            query["status"] = {"$in": [s.value for s in statuses]}
        if after:
            query = {"$and": [query, after_filter(ORDER, decode_cursor(ORDER, after))]}
        docs = (
            await self._db.webhook_deliveries.find(query)
            .sort(ORDER.sort)
            .limit(first + 1)
            .to_list()
        )
        if not statuses or DeliveryStatus.SUCCEEDED in statuses:
            before = None
            if after:
                at, last = decode_keys(ORDER, after, (datetime, str))
                before = at, last
            docs += await self._batched(endpoint_id, before, first + 1)
            docs.sort(key=newest_first_key, reverse=True)
            del docs[first + 1 :]
        page = [(delivery_from_doc(d), encode_cursor(ORDER, d)) for d in docs[:first]]
        return page, len(docs) > first

    async def _batched(
        self, endpoint_id: str, before: tuple[datetime, str] | None, enough: int
    ) -> list[Doc]:
        """Up to `enough` of the endpoint's batched deliveries, newest first, strictly
        before `before`, leaving out those superseded by a document of their own
        (whatever its status: a redelivered one is PENDING, not SUCCEEDED)."""
        want = enough
        while True:
            found = await self.batches.newest_first(endpoint_id, before, want)
            ids = [d["_id"] for d in found]
            own = self._db.webhook_deliveries.find({"_id": {"$in": ids}}, {"_id": 1})
            superseded = {d["_id"] async for d in own} if ids else set()
            kept = [d for d in found if d["_id"] not in superseded]
            if len(kept) >= enough or len(found) < want:
                return kept[:enough]
            want = len(found) + enough - len(kept)

    async def redeliver(self, delivery: Delivery, now: datetime) -> Delivery:
        """Send a delivery again now, with the same `webhook-id`. A batched delivery gets
        a document of its own, which supersedes its entry in the batch."""

        async def txn(session: AsyncClientSession) -> None:
            await self._db.webhook_deliveries.update_one(
                {"_id": delivery.id},
                {
                    "$set": {
                        "status": DeliveryStatus.PENDING.value,
                        "nextAttemptAt": now,
                        "attempts": 0,
                        "error": None,
                    },
                    "$setOnInsert": {
                        "endpointId": delivery.endpoint_id,
                        "messageId": delivery.message_id,
                        "type": delivery.type,
                        "createdAt": delivery.created_at,
                        "deliveredAt": delivery.delivered_at,
                        "history": [_attempt_to_doc(a) for a in delivery.history],
                    },
                },
                upsert=True,
                session=session,
            )
            if not await self._jobs.reschedule(job_id(delivery.id), now, session):
                await self._jobs.enqueue(
                    [new_job(job_id(delivery.id), KIND, delivery.id, now, delivery.endpoint_id)],
                    session,
                )

        await self._db.transaction(txn)
        fresh = await self.delivery(delivery.id)
        assert fresh is not None
        return fresh

    async def load(self, job: Job) -> tuple[Delivery, Endpoint | None, Doc | None] | None:
        """What an attempt needs: the delivery, its endpoint and the message document,
        read at once (the delivery's id names the other two, see `fan_out`)."""
        message_id, endpoint_id = record_parts(job.ref)
        doc, endpoint, message = await asyncio.gather(
            self._db.webhook_deliveries.find_one({"_id": job.ref}),
            self.cached(endpoint_id),
            self._outbox.document(message_id),
        )
        if doc is None:
            return None
        return delivery_from_doc(doc), endpoint, message

    async def cached(self, endpoint_id: str) -> Endpoint | None:
        """The endpoint as read at most ENDPOINT_CACHE_SECONDS ago (None: no such one)."""
        cached = self._endpoints.get(endpoint_id, _UNREAD)
        if cached is not _UNREAD:
            return cached  # type: ignore[return-value]
        doc = await self._db.webhook_endpoints.find_one({"_id": endpoint_id})
        endpoint = endpoint_from_doc(doc) if doc else None
        self._endpoints[endpoint_id] = endpoint
        return endpoint

    async def cancel(self, job: Job, reason: str) -> None:
        """The delivery will not be sent: recorded, then its job settled (see
        `record_attempt` for why in that order and without a transaction)."""
        await self._db.webhook_deliveries.update_one(
            {"_id": job.ref, "status": DeliveryStatus.PENDING.value},
            {
                "$set": {
                    "status": DeliveryStatus.CANCELLED.value,
                    "error": reason,
                    "nextAttemptAt": None,
                }
            },
        )
        await self._jobs.settle(job, None)

    async def settle(self, job: Job, delivery: Delivery) -> None:
        """Bring the job in line with a delivery whose attempt is already recorded (its
        worker died between the two writes): done, or due at the next attempt."""
        pending = delivery.status is DeliveryStatus.PENDING
        await self._jobs.settle(job, delivery.next_attempt_at if pending else None)

    async def record_attempt(
        self,
        job: Job,
        delivery: Delivery,
        endpoint: Endpoint,
        record: AttemptRecord,
        verdict: Verdict,
        *,
        max_failures: int,
    ) -> None:
        """The attempt's result, the endpoint's failure count, then the job's next due time.

        Not one transaction: three guarded writes cost the embedded database half
        as much, and delivery is the hot path. The delivery is written first, only if
        nobody recorded an attempt since it was read (`attempts` unchanged), so one of
        two workers that both sent (a lease ran out mid-request) records. A worker
        that dies before settling leaves the job to run again after its lease: it
        finds the attempt recorded and only settles (WebhookDispatcher.deliver).
        Raises LeaseLost when the attempt or the job was taken by another worker."""
        attempts = delivery.attempts + 1
        fields: Doc = {
            "status": verdict.status.value,
            "attempts": attempts,
            "nextAttemptAt": verdict.next_attempt_at,
            "error": record.error,
        }
        if verdict.status is DeliveryStatus.SUCCEEDED:
            fields["deliveredAt"] = record.at
        result = await self._db.webhook_deliveries.update_one(
            {
                "_id": delivery.id,
                "status": DeliveryStatus.PENDING.value,
                "attempts": delivery.attempts,
            },
            {
                "$set": fields,
                "$push": {"history": {"$each": [_attempt_to_doc(record)], "$slice": -HISTORY}},
            },
        )
        if result.matched_count == 0:
            raise LeaseLost(job.id)
        await self.follow_endpoint(endpoint, record, verdict, max_failures)
        await self._jobs.settle(job, verdict.next_attempt_at)

    async def follow_endpoint(
        self,
        endpoint: Endpoint,
        record: AttemptRecord,
        verdict: Verdict,
        max_failures: int,
    ) -> None:
        """Count a message that failed every attempt against the endpoint (disabling it
        at `max_failures`, or at once on 410 Gone); a success resets the count."""
        if verdict.status is DeliveryStatus.SUCCEEDED:
            if endpoint.consecutive_failures == 0:
                # As read before the attempt: the common case costs no write. A failure
                # counted meanwhile is reset by the next success.
                return
            await self._db.webhook_endpoints.update_one(
                {"_id": endpoint.id, "consecutiveFailures": {"$ne": 0}},
                {"$set": {"consecutiveFailures": 0}},
            )
            return
        await self.count_failure(endpoint.id, record, verdict, max_failures)

    async def count_failure(
        self, endpoint_id: str, record: AttemptRecord, verdict: Verdict, max_failures: int
    ) -> None:
        """A message that failed for good: one more consecutive failure of the endpoint."""
        endpoints = self._db.webhook_endpoints
        if not verdict.failed_for_good:
            return
        doc = await endpoints.find_one_and_update(
            {"_id": endpoint_id},
            {"$inc": {"consecutiveFailures": 1}},
            return_document=ReturnDocument.AFTER,
        )
        self._forget(endpoint_id)
        if doc is None or not doc["enabled"]:
            return
        reason = verdict.disable_reason
        if reason is None and doc["consecutiveFailures"] >= max_failures:
            reason = f"{doc['consecutiveFailures']} messages in a row failed every attempt"
        if reason is not None:
            await endpoints.update_one(
                {"_id": endpoint_id},
                {
                    "$set": {"enabled": False, "disabledReason": reason, "disabledAt": record.at},
                    "$inc": {"version": 1},
                },
            )
            self._forget(endpoint_id)
