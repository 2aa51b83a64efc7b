"""The raw route bench/api.py measures the service against: PyMongo + Starlette, no GraphQL.

Each route asks the database exactly what the service's operation needs and
returns the JSON the service returns for it (`{"data": ...}`), encoded by
Starlette: no parsing, validation, permission checks, cost, metrics or
logging. It reads the service's own collections; `POST /declare` writes a copy
of the incident and DECLARED event a declaration of the service wrote, in one
transaction, into the same collections (see `Written`).

    MONGODB_URI=... MONGODB_DATABASE=... uvicorn bench.raw_api:app --port 9100
"""

from __future__ import annotations

import itertools
import os
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from pymongo import AsyncMongoClient, InsertOne
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

FIELDS = ("title", "status", "priority", "impact", "urgency", "declaredAt")
PROJECTION = {**dict.fromkeys(FIELDS, 1), "number": 1}
NEWEST_FIRST = [("declaredAt", -1), ("_id", -1)]

client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
    os.environ["MONGODB_URI"], tz_aware=True, tzinfo=UTC
)
db = client[os.environ["MONGODB_DATABASE"]]


def node(doc: dict[str, Any]) -> dict[str, Any]:
    """The 8 fields of the benchmark's GraphQL selection, as the service encodes them."""
    return {
        "id": doc["_id"],
        "key": f"INC-{doc['number']}",
        **{f: doc[f] for f in FIELDS[:-1]},
        "declaredAt": doc["declaredAt"].isoformat(),
    }


async def incident(request: Request) -> JSONResponse:
    doc = await db.incidents.find_one({"number": int(request.path_params["number"])}, PROJECTION)
    return JSONResponse({"data": {"incident": node(doc) if doc else None}})


async def incidents(request: Request) -> JSONResponse:
    clauses: list[dict[str, Any]] = []
    if "label" in request.query_params:
        clauses += [{"labels": request.query_params["label"]}, {"open": True}]
    query = {"$and": clauses} if clauses else {}
    first = int(request.query_params.get("first", "40"))
    docs = await db.incidents.find(query, PROJECTION).sort(NEWEST_FIRST).limit(first).to_list()
    return JSONResponse({"data": {"incidents": {"edges": [{"node": node(d)} for d in docs]}}})


class Written:
    """What a declaration of the service wrote, copied by the raw writes: the same
    documents, with their own ids, numbers and times.

    Taken from the newest incident the service declared (bench/api.py seeds them
    first), and its first event, outbox message and jobs. The raw route writes the
    incident and its event into the service's own collections, so the same indexes
    are kept up to date as the service's writes keep; the outbox message and jobs
    go to collections of the raw route's own, made with the same indexes (the
    service's job worker would otherwise take them as its own work)."""

    incident: dict[str, Any]
    event: dict[str, Any]
    message: dict[str, Any]
    job: dict[str, Any]

    @classmethod
    async def load(cls) -> Written:
        written = cls()
        # Declared, not opened by an alert: a copy of that would break the unique index
        # of open alert groups.
        incident = await db.incidents.find_one({"alertGroup": None}, sort=NEWEST_FIRST)
        if incident is None:
            raise RuntimeError("declare one incident through the service first")
        written.incident = incident
        written.event = await db.incident_events.find_one({"incidentId": incident["_id"]}) or {}
        written.message = await newest_message()
        timer = await db.jobs.find_one({"_id": f"sla:{incident['_id']}"})
        written.job = timer or {"status": "PENDING", "attempts": 0, "leaseUntil": None}
        for theirs, ours in ((db.outbox, db.raw_outbox), (db.jobs, db.raw_jobs)):
            for name, spec in (await theirs.index_information()).items():
                if name == "_id_":
                    continue
                options = {k: spec[k] for k in ("unique", "partialFilterExpression") if k in spec}
                await ours.create_index(spec["key"], name=name, **options)
        return written

    def documents(self, number: int, title: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """A new incident numbered `number`, and its DECLARED event."""
        # Every time moves with the declaration (an SLA due date stays as far ahead).
        shift = datetime.now(UTC) - self.incident["declaredAt"]
        incident_id = str(ObjectId())
        times = {k: v + shift for k, v in self.incident.items() if isinstance(v, datetime)}
        doc = {**self.incident, **times, "_id": incident_id, "number": number, "title": title}
        event = {k: v for k, v in self.event.items() if k != "_id"}
        return doc, {**event, "incidentId": incident_id, "at": self.event["at"] + shift}

    def notification(self, incident_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Its outbox message, the message's fan-out job and the SLA timer job."""
        now = datetime.now(UTC)
        message_id = f"msg_{ObjectId()}"
        message = {**self.message, "_id": message_id, "at": now}
        jobs = [
            {**self.job, "_id": f"outbox:{message_id}", "kind": "outbox", "ref": message_id},
            {**self.job, "_id": f"sla:{incident_id}", "kind": "sla", "ref": incident_id},
        ]
        for each in jobs:
            each["dueAt"] = now
        return message, jobs


_written: list[Written] = []
#: The raw two-document write numbers its incidents far above the service's.
_numbers = itertools.count(1_000_000_000)


async def newest_message() -> dict[str, Any]:
    """The newest `incident.declared` message: none while nobody listens (bench/api.py
    creates a webhook endpoint before the cases that write like the service with one)."""
    return await db.outbox.find_one({"type": "incident.declared"}, sort=[("at", -1)]) or {}


async def written() -> Written:
    if not _written:
        _written.append(await Written.load())
    return _written[0]


async def declare(request: Request) -> JSONResponse:
    """The same two documents a declaration writes (incident, event), in one transaction."""
    body = await request.json()
    doc, event = (await written()).documents(next(_numbers), body["title"])
    async with client.start_session() as session, await session.start_transaction():
        await db.incidents.insert_one(doc, session=session)
        await db.incident_events.insert_one(event, session=session)
    return JSONResponse({"data": {"declareIncident": {"incident": {"id": doc["_id"]}}}})


async def declare_as_the_service_writes(request: Request) -> JSONResponse:
    """What a declaration writes besides its two documents: its number from the counter
    (committed first), the outbox message, its fan-out job and the SLA timer job; all
    five documents in one `bulkWrite`, as the service writes them."""
    body = await request.json()
    template = await written()
    if not template.message:
        template.message = await newest_message()
        if not template.message:
            raise RuntimeError("declare one incident through the service with a listener first")
    counter = await db.counters.find_one_and_update(
        {"_id": "incident"}, {"$inc": {"seq": 1}}, upsert=True, return_document=True
    )
    doc, event = template.documents(counter["seq"], body["title"])
    message, jobs = template.notification(doc["_id"])
    writes = [
        InsertOne(doc, namespace=db.incidents.full_name),
        InsertOne(event, namespace=db.incident_events.full_name),
        InsertOne(message, namespace=db.raw_outbox.full_name),
        *(InsertOne(job, namespace=db.raw_jobs.full_name) for job in jobs),
    ]
    async with client.start_session() as session, await session.start_transaction():
        await client.bulk_write(writes, session=session)
    return JSONResponse({"data": {"declareIncident": {"incident": {"id": doc["_id"]}}}})


app = Starlette(
    routes=[
        Route("/incident/{number:int}", incident),
        Route("/incidents", incidents),
        Route("/declare", declare, methods=["POST"]),
        Route("/declare-as-the-service-writes", declare_as_the_service_writes, methods=["POST"]),
    ]
)
