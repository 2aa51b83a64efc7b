"""Webhook endpoints and their delivery log.

An endpoint is an audience of the outbox: fanning a message out writes one
delivery per endpoint that wants it, with a job of its own (grouped by
endpoint, so the worker runs few of one endpoint's deliveries at a time).
The dispatcher (jobs/webhooks.py) does the HTTP request outside any
transaction and writes what happened with `record_attempt`, guarded by the
job's lease.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from bson import ObjectId
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
    Verdict,
    WebhookFormat,
    mint_secret,
)
from incident_service.store.codec import Doc
from incident_service.store.database import Database
from incident_service.store.jobs import Job, JobStore, new_job
from incident_service.store.outbox import Outbox
from incident_service.store.paging import Order, after_filter, decode_cursor, encode_cursor

KIND = "webhook"
ORDER = Order("NEWEST_FIRST", (("createdAt", -1), ("_id", -1)))
#: Attempts kept in a delivery's history.
HISTORY = 10


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


def job_id(delivery_id: str) -> str:
    return f"{KIND}:{delivery_id}"


class WebhookStore:
    """Endpoints (ADMIN-managed) and the deliveries of outbox messages to them."""

    def __init__(self, database: Database, jobs: JobStore, outbox: Outbox) -> None:
        self._db = database
        self._jobs = jobs
        self._outbox = outbox
        outbox.add_audience(self)

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
        await self._db.webhook_endpoints.insert_one(endpoint_to_doc(endpoint))
        return endpoint

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
        return deleted

    # Fan-out (the outbox audience)

    async def fan_out(
        self, message_id: str, message: Message, target: str | None, session: AsyncClientSession
    ) -> list[Doc]:
        query: Doc = {"enabled": True}
        if target is not None:
            query = {"_id": target}
        elif message.type == notifications.WEBHOOK_TEST:
            return []
        endpoints = await self._db.webhook_endpoints.find(query, session=session).to_list()
        deliveries: list[Doc] = []
        for doc in endpoints:
            endpoint = endpoint_from_doc(doc)
            if target is None and not notifications.wanted(
                endpoint.event_types, endpoint.service_ids, message
            ):
                continue
            deliveries.append(
                {
                    "_id": f"{message_id}.{endpoint.id}",
                    "endpointId": endpoint.id,
                    "messageId": message_id,
                    "type": message.type,
                    "status": DeliveryStatus.PENDING.value,
                    "attempts": 0,
                    "createdAt": message.at,
                    "nextAttemptAt": message.at,
                    "history": [],
                }
            )
        if not deliveries:
            return []
        await self._db.webhook_deliveries.insert_many(deliveries, session=session)
        return [
            new_job(job_id(d["_id"]), KIND, d["_id"], d["nextAttemptAt"], d["endpointId"])
            for d in deliveries
        ]

    async def send_test(self, endpoint: Endpoint, message: Message) -> str:
        """A test message for this one endpoint, through the outbox like any other."""
        ids: list[str] = []

        async def txn(session: AsyncClientSession) -> None:
            ids[:] = await self._outbox.record([message], session, target=endpoint.id)

        await self._db.transaction(txn)
        return f"{ids[0]}.{endpoint.id}"

    # Deliveries

    async def delivery(self, delivery_id: str) -> Delivery | None:
        doc = await self._db.webhook_deliveries.find_one({"_id": delivery_id})
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
        page = [(delivery_from_doc(d), encode_cursor(ORDER, d)) for d in docs[:first]]
        return page, len(docs) > first

    async def redeliver(self, delivery: Delivery, now: datetime) -> Delivery:
        """Send a delivery again now, with the same `webhook-id`."""

        async def txn(session: AsyncClientSession) -> None:
            await self._db.webhook_deliveries.update_one(
                {"_id": delivery.id},
                {
                    "$set": {
                        "status": DeliveryStatus.PENDING.value,
                        "nextAttemptAt": now,
                        "attempts": 0,
                        "error": None,
                    }
                },
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
        """What an attempt needs: the delivery, its endpoint and the message document."""
        doc = await self._db.webhook_deliveries.find_one({"_id": job.ref})
        if doc is None:
            return None
        delivery = delivery_from_doc(doc)
        endpoint_doc, message = await asyncio.gather(
            self._db.webhook_endpoints.find_one({"_id": delivery.endpoint_id}),
            self._db.outbox.find_one({"_id": delivery.message_id}),
        )
        return delivery, endpoint_from_doc(endpoint_doc) if endpoint_doc else None, message

    async def cancel(self, job: Job, reason: str) -> None:
        async def txn(session: AsyncClientSession) -> None:
            await self._db.webhook_deliveries.update_one(
                {"_id": job.ref},
                {
                    "$set": {
                        "status": DeliveryStatus.CANCELLED.value,
                        "error": reason,
                        "nextAttemptAt": None,
                    }
                },
                session=session,
            )
            await self._jobs.settle(job, None, session)

        await self._db.transaction(txn)

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
        """The attempt's result, the endpoint's failure count, and the job's next due time,
        in one transaction; raises LeaseLost if another worker took the job meanwhile."""
        attempts = delivery.attempts + 1
        fields: Doc = {
            "status": verdict.status.value,
            "attempts": attempts,
            "nextAttemptAt": verdict.next_attempt_at,
            "error": record.error,
        }
        if verdict.status is DeliveryStatus.SUCCEEDED:
            fields["deliveredAt"] = record.at

        async def txn(session: AsyncClientSession) -> None:
            await self._db.webhook_deliveries.update_one(
                {"_id": delivery.id},
                {
                    "$set": fields,
                    "$push": {"history": {"$each": [_attempt_to_doc(record)], "$slice": -HISTORY}},
                },
                session=session,
            )
            await self._follow_endpoint(endpoint, record, verdict, max_failures, session)
            await self._jobs.settle(job, verdict.next_attempt_at, session)

        await self._db.transaction(txn)

    async def _follow_endpoint(
        self,
        endpoint: Endpoint,
        record: AttemptRecord,
        verdict: Verdict,
        max_failures: int,
        session: AsyncClientSession,
    ) -> None:
        endpoints = self._db.webhook_endpoints
        endpoint_id = endpoint.id
        if verdict.status is DeliveryStatus.SUCCEEDED:
            if endpoint.consecutive_failures == 0:
                # As read before the attempt: the common case costs no write. A failure
                # counted meanwhile is reset by the next success.
                return
            await endpoints.update_one(
                {"_id": endpoint_id, "consecutiveFailures": {"$ne": 0}},
                {"$set": {"consecutiveFailures": 0}},
                session=session,
            )
            return
        if not verdict.failed_for_good:
            return
        doc = await endpoints.find_one_and_update(
            {"_id": endpoint_id},
            {"$inc": {"consecutiveFailures": 1}},
            return_document=ReturnDocument.AFTER,
            session=session,
        )
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
                session=session,
            )
