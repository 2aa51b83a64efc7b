"""Display names of actor ids: what `actorName` and the `actors` query show.

Actor ids decide who may do what (domain/principal.py); names are only for
people to read, and are looked up, never compared. An API key's name is on
its `api_keys` document, an integration's name is its actor id, and an OIDC
user's is remembered in the `users` collection when they sign in with a new
one: the token carries it and nothing else does.

Names are cached in the process for CACHE_SECONDS, so a timeline or a live
subscription costs no query per event; a renamed user shows the new name on
every replica within that time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cachetools import LRUCache, TTLCache

from incident_service.domain.apikeys import BOOTSTRAP_NAME
from incident_service.domain.principal import Principal, actor_kind
from incident_service.store import apikeys
from incident_service.store.database import Database

COLLECTION = "users"
CACHE_SECONDS = 60.0
#: Names held at once; past this the least recently used go.
CACHE_MAX = 10_000


class ActorNames:
    def __init__(self, database: Database) -> None:
        self._users = database.collection(COLLECTION)
        self._keys = database.collection(apikeys.COLLECTION)
        self._cache: TTLCache[str, str] = TTLCache(CACHE_MAX, CACHE_SECONDS)
        self._recorded: LRUCache[str, str] = LRUCache(CACHE_MAX)

    def recorded(self, principal: Principal) -> bool:
        """Whether there is nothing to record: not a user, or this process recorded
        their current name."""
        return principal.kind != "user" or self._recorded.get(principal.actor) == principal.name

    async def remember(self, principal: Principal, now: datetime) -> None:
        """Record an OIDC user's current name; a no-op when this process recorded it."""
        if self.recorded(principal):
            return
        self._keep(principal.actor, principal.name)
        await self._users.update_one(
            {"_id": principal.actor},
            {"$set": {"name": principal.name, "seenAt": now}},
            upsert=True,
        )
        self._recorded[principal.actor] = principal.name

    async def names(self, actors: Sequence[str]) -> list[str]:
        """The display name of each actor id, in order: the id itself when none is known."""
        found: dict[str, str] = {}
        missing: dict[str, list[str]] = {"api_key": [], "user": []}
        for actor in dict.fromkeys(actors):
            cached = self._cache.get(actor)
            parsed = actor_kind(actor)
            if cached is not None:
                found[actor] = cached
            elif parsed is None:
                found[actor] = actor
            elif parsed[0] == "integration" or parsed == ("api_key", BOOTSTRAP_NAME):
                found[actor] = parsed[1]
            else:
                missing[parsed[0]].append(parsed[1])
        if missing["api_key"]:
            async for doc in self._keys.find(
                {"_id": {"$in": missing["api_key"]}}, projection={"name": 1}
            ):
                found[f"key:{doc['_id']}"] = self._keep(f"key:{doc['_id']}", doc["name"])
        if missing["user"]:
            ids = [f"oidc:{s}" for s in missing["user"]]
            async for doc in self._users.find({"_id": {"$in": ids}}, projection={"name": 1}):
                found[doc["_id"]] = self._keep(doc["_id"], doc["name"])
        return [found.get(a, a) for a in actors]

    def _keep(self, actor: str, name: str) -> str:
        self._cache[actor] = name
        return name
