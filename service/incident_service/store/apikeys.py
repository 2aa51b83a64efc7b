"""The `api_keys` collection: key documents hold the SHA-256 of the secret, never the secret."""

from __future__ import annotations

from datetime import datetime, timedelta

from bson import ObjectId
from bson.errors import InvalidId
from pymongo import ASCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from incident_service.domain.apikeys import ApiKey, hash_secret, new_key
from incident_service.domain.errors import not_found, validation
from incident_service.domain.principal import Role
from incident_service.store.codec import Doc
from incident_service.store.database import Database, deactivate

COLLECTION = "api_keys"
INDEXES = [
    IndexModel([("hash", ASCENDING)], unique=True, name="hash_unique"),
    # A name is what people read beside a key's actor id (key:<id>): two live keys never
    # share one, so that it is not confusing.
    IndexModel(
        [("name", ASCENDING)],
        unique=True,
        partialFilterExpression={"active": True},
        name="active_name_unique",
    ),
    # apiKeys lists active keys, or all of them, oldest first.
    IndexModel([("active", ASCENDING), ("createdAt", ASCENDING)], name="active_created"),
    IndexModel([("createdAt", ASCENDING)], name="created"),
]


def _to_doc(key: ApiKey, hashed: str) -> Doc:
    return {
        "_id": key.id,
        "hash": hashed,
        "name": key.name,
        "role": key.role.name,
        "prefix": key.prefix,
        "createdAt": key.created_at,
        "createdBy": key.created_by,
        "lastUsedAt": key.last_used_at,
        "revokedAt": key.revoked_at,
        "revokedBy": key.revoked_by,
        "active": key.active,
    }


def _from_doc(doc: Doc) -> ApiKey:
    return ApiKey(
        id=doc["_id"],
        name=doc["name"],
        role=Role[doc["role"]],
        prefix=doc["prefix"],
        created_at=doc["createdAt"],
        created_by=doc["createdBy"],
        last_used_at=doc.get("lastUsedAt"),
        revoked_at=doc.get("revokedAt"),
        revoked_by=doc.get("revokedBy"),
    )


class ApiKeyStore:
    def __init__(self, database: Database) -> None:
        self._keys = database.collection(COLLECTION)
        self._db = database

    async def ensure_indexes(self) -> None:
        await self._db.ensure_indexes({COLLECTION: INDEXES})

    async def create(
        self, name: str, role: Role, *, now: datetime, actor: str
    ) -> tuple[ApiKey, str]:
        """Mint and store a key; its secret is returned this once and never stored."""
        key, secret = new_key(name, role, key_id=str(ObjectId()), now=now, actor=actor)
        try:
            await self._keys.insert_one(_to_doc(key, hash_secret(secret)))
        except DuplicateKeyError:
            raise validation("name", f"an active API key named {key.name!r} exists") from None
        return key, secret

    async def find_active(self, secret: str) -> ApiKey | None:
        doc = await self._keys.find_one({"hash": hash_secret(secret)}, projection={"hash": 0})
        if doc is None or doc.get("revokedAt") is not None:
            return None
        return _from_doc(doc)

    async def touch(self, key_id: str, now: datetime, interval: float) -> None:
        """Record use; a no-op when another request recorded it within `interval`."""
        await self._keys.update_one(
            {
                "_id": key_id,
                "$or": [
                    {"lastUsedAt": None},
                    {"lastUsedAt": {"$lte": now - timedelta(seconds=interval)}},
                ],
            },
            {"$set": {"lastUsedAt": now}},
        )

    async def all(self, include_revoked: bool) -> list[ApiKey]:
        query: Doc = {} if include_revoked else {"active": True}
        docs = await self._keys.find(query, projection={"hash": 0}).sort("createdAt", 1).to_list()
        return [_from_doc(d) for d in docs]

    async def revoke(self, raw_id: str, now: datetime, actor: str) -> ApiKey:
        """Revoke a key; revoking a revoked key returns it unchanged."""
        try:
            key_id = str(ObjectId(raw_id))
        except (InvalidId, TypeError):
            raise not_found("API key") from None
        doc = await deactivate(
            self._keys, key_id, {"revokedAt": now, "revokedBy": actor}, {"hash": 0}
        )
        if doc is None:
            raise not_found("API key")
        return _from_doc(doc)
