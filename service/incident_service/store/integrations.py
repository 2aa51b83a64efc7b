"""The `integrations` collection: one document per monitoring source, holding the SHA-256
of its routing key, never the key."""

from __future__ import annotations

from datetime import datetime

from bson import ObjectId
from bson.errors import InvalidId
from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from incident_service.domain.apikeys import hash_secret
from incident_service.domain.enums import Impact, IncidentCategory, IntegrationKind, Urgency
from incident_service.domain.errors import not_found, validation
from incident_service.domain.integrations import (
    SHOWN_CHARS,
    Defaults,
    Integration,
    mint_key,
    new_integration,
)
from incident_service.store.codec import Doc
from incident_service.store.database import Database, deactivate

COLLECTION = "integrations"
INDEXES = [
    IndexModel([("hash", ASCENDING)], unique=True, name="hash_unique"),
    # The name is the actor on the timeline (integration:<name>): unique while enabled.
    IndexModel(
        [("name", ASCENDING)],
        unique=True,
        partialFilterExpression={"active": True},
        name="active_name_unique",
    ),
    IndexModel([("createdAt", ASCENDING)], name="created"),
]


def _to_doc(i: Integration, hashed: str) -> Doc:
    d = i.defaults
    return {
        "_id": i.id,
        "hash": hashed,
        "name": i.name,
        "kind": i.kind.value,
        "prefix": i.prefix,
        "defaults": {
            "category": d.category.value,
            "impact": d.impact.value if d.impact else None,
            "urgency": d.urgency.value if d.urgency else None,
            "serviceIds": list(d.service_ids),
            "labels": list(d.labels),
        },
        "autoResolve": i.auto_resolve,
        "createdAt": i.created_at,
        "createdBy": i.created_by,
        "rotatedAt": i.rotated_at,
        "disabledAt": i.disabled_at,
        "disabledBy": i.disabled_by,
        "active": i.active,
    }


def _from_doc(doc: Doc) -> Integration:
    d = doc.get("defaults") or {}
    return Integration(
        id=doc["_id"],
        name=doc["name"],
        kind=IntegrationKind(doc["kind"]),
        prefix=doc["prefix"],
        created_at=doc["createdAt"],
        created_by=doc["createdBy"],
        defaults=Defaults(
            category=IncidentCategory(d.get("category", "OTHER")),
            impact=Impact(d["impact"]) if d.get("impact") else None,
            urgency=Urgency(d["urgency"]) if d.get("urgency") else None,
            service_ids=tuple(d.get("serviceIds", ())),
            labels=tuple(d.get("labels", ())),
        ),
        auto_resolve=doc.get("autoResolve", True),
        rotated_at=doc.get("rotatedAt"),
        disabled_at=doc.get("disabledAt"),
        disabled_by=doc.get("disabledBy"),
    )


def _object_id(raw: str) -> str:
    try:
        return str(ObjectId(raw))
    except (InvalidId, TypeError):
        raise not_found("integration") from None


class IntegrationStore:
    def __init__(self, database: Database) -> None:
        self._db = database
        self._integrations = database.collection(COLLECTION)

    async def ensure_indexes(self) -> None:
        await self._db.ensure_indexes({COLLECTION: INDEXES})

    async def create(
        self,
        name: str,
        kind: IntegrationKind,
        defaults: Defaults,
        auto_resolve: bool,
        *,
        now: datetime,
        actor: str,
    ) -> tuple[Integration, str]:
        """Store a new integration; its routing key is returned this once."""
        integration, key = new_integration(
            name,
            kind,
            defaults,
            auto_resolve,
            integration_id=str(ObjectId()),
            now=now,
            actor=actor,
        )
        try:
            await self._integrations.insert_one(_to_doc(integration, hash_secret(key)))
        except DuplicateKeyError:
            raise validation("name", f"an integration named {integration.name!r} exists") from None
        return integration, key

    async def find_active(self, key: str) -> Integration | None:
        doc = await self._integrations.find_one({"hash": hash_secret(key)}, projection={"hash": 0})
        if doc is None or not doc.get("active", False):
            return None
        return _from_doc(doc)

    async def get(self, raw_id: str) -> Integration | None:
        doc = await self._integrations.find_one({"_id": _object_id(raw_id)}, projection={"hash": 0})
        return _from_doc(doc) if doc else None

    async def get_many(self, ids: list[str]) -> list[Integration]:
        docs = await self._integrations.find(
            {"_id": {"$in": ids}}, projection={"hash": 0}
        ).to_list()
        return [_from_doc(d) for d in docs]

    async def by_name(self, name: str) -> Integration | None:
        """The enabled integration of this name: what a routing-key principal stands for."""
        doc = await self._integrations.find_one(
            {"name": name, "active": True}, projection={"hash": 0}
        )
        return _from_doc(doc) if doc else None

    async def all(self, include_disabled: bool) -> list[Integration]:
        query: Doc = {} if include_disabled else {"active": True}
        docs = await (
            self._integrations.find(query, projection={"hash": 0}).sort("createdAt", 1).to_list()
        )
        return [_from_doc(d) for d in docs]

    async def rotate(self, raw_id: str, now: datetime) -> tuple[Integration, str]:
        """A new routing key; the old one stops working at once."""
        key = mint_key()
        doc = await self._integrations.find_one_and_update(
            {"_id": _object_id(raw_id), "active": True},
            {"$set": {"hash": hash_secret(key), "prefix": key[:SHOWN_CHARS], "rotatedAt": now}},
            projection={"hash": 0},
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            raise not_found("enabled integration")
        return _from_doc(doc), key

    async def disable(self, raw_id: str, now: datetime, actor: str) -> Integration:
        """Disable an integration: its key is refused from now on. Idempotent."""
        integration_id = _object_id(raw_id)
        doc = await deactivate(
            self._integrations,
            integration_id,
            {"disabledAt": now, "disabledBy": actor},
            {"hash": 0},
        )
        if doc is None:
            raise not_found("integration")
        return _from_doc(doc)
