"""Services (status-page components); every status change is also an event."""

from __future__ import annotations

from typing import Any

from bson import ObjectId
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from incident_service.domain import service as domain
from incident_service.domain.enums import ComponentStatus
from incident_service.domain.errors import not_found, validation
from incident_service.store import codec
from incident_service.store.codec import Doc
from incident_service.store.database import Database


class ServiceStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def all(self) -> list[domain.Service]:
        docs = await self._db.services.find({}).sort("name", 1).to_list()
        return [codec.service_from_doc(d) for d in docs]

    async def get_many(self, ids: list[str]) -> list[domain.Service]:
        docs = await self._db.services.find({"_id": {"$in": ids}}).to_list()
        return [codec.service_from_doc(d) for d in docs]

    async def get(self, service_id: str) -> domain.Service | None:
        doc = await self._db.services.find_one({"_id": service_id})
        return codec.service_from_doc(doc) if doc else None

    async def create(
        self, name: str, description: str | None, *, now: Any, actor: str
    ) -> domain.Service:
        service = domain.create(str(ObjectId()), name, description, now)

        async def txn(session: AsyncClientSession) -> None:
            await self._db.services.insert_one(codec.service_to_doc(service), session=session)
            await self._db.service_events.insert_one(
                _event(service, "SERVICE_CREATED", actor), session=session
            )

        try:
            await self._db.transaction(txn)
        except DuplicateKeyError:
            raise validation("name", f"a service named {service.name!r} already exists") from None
        return service

    async def set_status(
        self, service_id: str, status: ComponentStatus, *, now: Any, actor: str
    ) -> domain.Service:
        current = await self.get(service_id)
        if current is None:
            raise not_found("service")
        if current.status is status:
            return current
        updated = domain.set_status(current, status, now)

        async def txn(session: AsyncClientSession) -> None:
            await self._db.services.update_one(
                {"_id": service_id},
                {"$set": {"status": status.value, "updatedAt": now}, "$inc": {"version": 1}},
                session=session,
            )
            await self._db.service_events.insert_one(
                _event(updated, "SERVICE_STATUS_CHANGED", actor, previous=current.status.value),
                session=session,
            )

        await self._db.transaction(txn)
        return updated


def _event(service: domain.Service, type_: str, actor: str, **data: Any) -> Doc:
    return {
        "serviceId": service.id,
        "type": type_,
        "at": service.updated_at,
        "actor": actor,
        "status": service.status.value,
        "data": data,
    }
