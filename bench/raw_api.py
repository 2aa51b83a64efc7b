"""The raw route bench/api.py measures the service against: PyMongo + Starlette, no GraphQL.

Each route asks the database exactly what the service's operation needs and
returns the JSON the service returns for it (`{"data": ...}`), encoded by
Starlette: no parsing, validation, permission checks, cost, metrics or
logging. It reads the service's own collections; `POST /declare` writes an
incident and its DECLARED event in one transaction, into collections of its
own.

    MONGODB_URI=... MONGODB_DATABASE=... uvicorn bench.raw_api:app --port 9100
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from typing import Any

from pymongo import AsyncMongoClient
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


async def declare(request: Request) -> JSONResponse:
    body = await request.json()
    now = datetime.now(UTC)
    incident_id = uuid.uuid4().hex
    doc = {
        "_id": incident_id,
        "title": body["title"],
        "status": "INVESTIGATING",
        "priority": "P3",
        "declaredAt": now,
        "version": 1,
        "lastSeq": 1,
    }
    event = {"incidentId": incident_id, "seq": 1, "type": "DECLARED", "at": now}
    async with client.start_session() as session, await session.start_transaction():
        await db.raw_incidents.insert_one(doc, session=session)
        await db.raw_incident_events.insert_one(event, session=session)
    return JSONResponse({"data": {"declareIncident": {"incident": {"id": incident_id}}}})


async def declare_as_the_service_writes(request: Request) -> JSONResponse:
    """What a declaration writes besides its two documents: its number from a counter
    (committed first), the outbox message and its fan-out job, and the SLA timer job."""
    body = await request.json()
    now = datetime.now(UTC)
    incident_id = uuid.uuid4().hex
    counter = await db.raw_counters.find_one_and_update(
        {"_id": "incident"}, {"$inc": {"seq": 1}}, upsert=True, return_document=True
    )
    doc = {"_id": incident_id, "number": counter["seq"], "title": body["title"], "at": now}
    event = {"incidentId": incident_id, "seq": 1, "type": "DECLARED", "at": now}
    message = {"_id": uuid.uuid4().hex, "type": "incident.declared", "incidentId": incident_id}
    jobs = [
        {"_id": f"fanout:{message['_id']}", "kind": "outbox", "dueAt": now},
        {"_id": f"sla:{incident_id}", "kind": "sla", "dueAt": now},
    ]
    async with client.start_session() as session, await session.start_transaction():
        await db.raw_incidents.insert_one(doc, session=session)
        await db.raw_incident_events.insert_one(event, session=session)
        await db.raw_outbox.insert_one(message, session=session)
        await db.raw_jobs.insert_many(jobs, session=session)
    return JSONResponse({"data": {"declareIncident": {"incident": {"id": incident_id}}}})


app = Starlette(
    routes=[
        Route("/incident/{number:int}", incident),
        Route("/incidents", incidents),
        Route("/declare", declare, methods=["POST"]),
        Route("/declare-as-the-service-writes", declare_as_the_service_writes, methods=["POST"]),
    ]
)
