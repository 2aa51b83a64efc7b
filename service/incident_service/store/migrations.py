"""Rewrites of stored data, run at start-up until a run finds nothing left to do.

Each migration is idempotent and records in the `migrations` collection how
many documents its last run found: replicas that start together may both run
it, to the same result, one that dies half-way leaves it to the next start,
and pods of the previous version still writing during a rolling update leave
work that the next start finds. A document is only rewritten as it was read
(an incident at the version read, which the rewrite advances, so a change
computed from the old document fails its version check and is computed again).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.cursor import AsyncCursor

from incident_service.domain.apikeys import BOOTSTRAP_NAME
from incident_service.store import apikeys
from incident_service.store.codec import Doc
from incident_service.store.database import Database

log = logging.getLogger(__name__)

COLLECTION = "migrations"
ACTOR_IDS = "actor-ids-by-key-id"

#: Fields that hold one actor id, by collection.
ACTOR_FIELDS = {
    "incident_events": ("actor",),
    "service_events": ("actor",),
    "maintenance_events": ("actor",),
    "api_keys": ("createdBy", "revokedBy"),
    "integrations": ("createdBy", "disabledBy"),
    "maintenances": ("createdBy",),
    "postmortems": ("publishedBy",),
    "action_items": ("owner", "createdBy"),
    "webhook_endpoints": ("createdBy",),
}
#: Lists of actor ids on an incident, and lists of objects with one in a field.
INCIDENT_LISTS = ("participants", "viewers")
INCIDENT_OBJECT_LISTS = (
    ("roles", "user"),
    ("tasks", "doneBy"),
    ("tasks", "assignee"),
    ("externalLinks", "addedBy"),
)
BATCH = 1000


async def run(database: Database, now: datetime) -> None:
    done = database.collection(COLLECTION)
    last = await done.find_one({"_id": ACTOR_IDS})
    if last is None or last.get("documents", 0) > 0:
        renamed = key_actor_ids(await database.collection(apikeys.COLLECTION).find().to_list())
        changed = await rename_actors(database, renamed)
        await done.update_one(
            {"_id": ACTOR_IDS}, {"$set": {"at": now, "documents": changed}}, upsert=True
        )
        log.info("actor ids: %d API key names rewritten in %d documents", len(renamed), changed)


def key_actor_ids(keys: list[Doc]) -> dict[str, str]:
    """`key:<name>` -> `key:<id>` for every stored key, as actions were recorded before
    actor ids. Names were unique among active keys only: an active key wins a name,
    else the one created last."""
    keys = sorted(keys, key=lambda k: (k.get("revokedAt") is None, k["createdAt"]))
    mapping = {f"key:{k['name']}": f"key:{k['_id']}" for k in keys}
    # The bootstrap key kept its actor id; stored keys could never be named like it.
    mapping.pop(f"key:{BOOTSTRAP_NAME}", None)
    return mapping


async def rename_actors(database: Database, renamed: Mapping[str, str]) -> int:
    """Rewrite every stored actor id in `renamed`; the number of documents changed."""
    if not renamed:
        return 0
    old = list(renamed)
    changed = 0
    for collection, fields in ACTOR_FIELDS.items():
        found = database.collection(collection).find(
            {"$or": [{f: {"$in": old}} for f in fields]}, projection=dict.fromkeys(fields, 1)
        )
        changed += await _rewrite(
            database, collection, found, functools.partial(_scalars, fields=fields, renamed=renamed)
        )
    clauses: list[Doc] = [{"declaredBy": {"$in": old}}]
    clauses += [{f: {"$in": old}} for f in INCIDENT_LISTS]
    clauses += [{f"{f}.{k}": {"$in": old}} for f, k in INCIDENT_OBJECT_LISTS]
    found = database.incidents.find({"$or": clauses})
    changed += await _rewrite(
        database, "incidents", found, lambda d: renamed_incident(d, renamed), versioned=True
    )
    return changed


async def _rewrite(
    database: Database,
    collection: str,
    found: AsyncCursor[Doc],
    fields: Callable[[Doc], Doc],
    *,
    versioned: bool = False,
) -> int:
    """Set `fields(doc)` on every document found, as it was read, in batches; how many
    were found (one changed meanwhile is left for the next run)."""
    batch: list[UpdateOne] = []
    count = 0
    async for doc in found:
        new = fields(doc)
        if versioned:
            where = {"_id": doc["_id"], "version": doc.get("version")}
            update: Doc = {"$set": new, "$inc": {"version": 1}}
        else:
            where = {"_id": doc["_id"], **{f: doc.get(f) for f in new}}
            update = {"$set": new}
        batch.append(UpdateOne(where, update))
        count += 1
        if len(batch) >= BATCH:
            await database.collection(collection).bulk_write(batch, ordered=False)
            batch = []
    if batch:
        await database.collection(collection).bulk_write(batch, ordered=False)
    return count


def _scalars(doc: Doc, *, fields: tuple[str, ...], renamed: Mapping[str, str]) -> Doc:
    return {f: renamed[doc[f]] for f in fields if doc.get(f) in renamed}


def renamed_incident(doc: Doc, renamed: Mapping[str, str]) -> Doc:
    """The incident's actor-holding fields with old ids replaced."""

    def one(value: Any) -> Any:
        return renamed.get(value, value) if isinstance(value, str) else value

    fields: Doc = {"declaredBy": one(doc.get("declaredBy"))}
    for name in INCIDENT_LISTS:
        fields[name] = [one(v) for v in doc.get(name, [])]
    for name in dict.fromkeys(f for f, _ in INCIDENT_OBJECT_LISTS):
        keys = {k for f, k in INCIDENT_OBJECT_LISTS if f == name}
        fields[name] = [
            {k: one(v) if k in keys else v for k, v in item.items()} for item in doc.get(name, [])
        ]
    return fields
