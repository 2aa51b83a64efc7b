"""Services (status-page components); every change is also a `service_events` document."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from bson import ObjectId
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from incident_service.domain import service as domain
from incident_service.domain import validation
from incident_service.domain.enums import ComponentStatus, UserErrorCode
from incident_service.domain.errors import DomainError, conflict, not_found
from incident_service.domain.errors import validation as invalid
from incident_service.store import codec
from incident_service.store.components import ComponentStatuses, status_event
from incident_service.store.database import Database


@dataclass(frozen=True)
class ServiceChanges:
    """Fields to change; None leaves a field as it is."""

    name: str | None = None
    description: str | None = None
    public: bool | None = None
    group: str | None = None


class ServiceStore:
    def __init__(self, database: Database, statuses: ComponentStatuses) -> None:
        self._db = database
        self._statuses = statuses

    async def all(self) -> list[domain.Service]:
        docs = await self._db.services.find({}).sort("name", 1).to_list()
        return [codec.service_from_doc(d) for d in docs]

    async def get_many(self, ids: Sequence[str]) -> list[domain.Service]:
        docs = await self._db.services.find({"_id": {"$in": list(ids)}}).to_list()
        return [codec.service_from_doc(d) for d in docs]

    async def require(
        self, ids: Sequence[str], field: tuple[str, ...]
    ) -> dict[str, domain.Service]:
        """The named services by id; NOT_FOUND naming `field` when any does not exist."""
        if not ids:
            return {}
        found = {s.id: s for s in await self.get_many(ids)}
        missing = [i for i in ids if i not in found]
        if missing:
            raise DomainError(
                UserErrorCode.NOT_FOUND, f"unknown service id(s): {', '.join(missing)}", field
            )
        return found

    async def get(self, service_id: str) -> domain.Service | None:
        doc = await self._db.services.find_one({"_id": service_id})
        return codec.service_from_doc(doc) if doc else None

    async def create(
        self,
        name: str,
        description: str | None,
        *,
        now: datetime,
        actor: str,
        public: bool = True,
        group: str | None = None,
    ) -> domain.Service:
        service = domain.create(str(ObjectId()), name, description, now, public=public, group=group)

        async def txn(session: AsyncClientSession) -> None:
            await self._db.services.insert_one(codec.service_to_doc(service), session=session)
            await self._db.service_events.insert_one(
                status_event(service, "SERVICE_CREATED", actor), session=session
            )

        try:
            await self._db.transaction(txn)
        except DuplicateKeyError:
            raise invalid("name", f"a service named {service.name!r} already exists") from None
        return service

    async def update(
        self, service_id: str, changes: ServiceChanges, *, now: datetime, actor: str
    ) -> domain.Service:
        current = await self.get(service_id)
        if current is None:
            raise not_found("service")
        wanted = replace(
            current,
            name=validation.name(changes.name, "name")
            if changes.name is not None
            else current.name,
            description=(
                validation.text(changes.description, "description")
                if changes.description is not None
                else current.description
            ),
            public=changes.public if changes.public is not None else current.public,
            group=domain.check_group(changes.group) if changes.group is not None else current.group,
        )
        if wanted == current:
            return current
        # Only the fields asked for are written: the derived status moves the same
        # document concurrently (every incident change on it), and must not make
        # a settings change fail or be undone.
        fields = {
            key: value
            for key, value in {
                "name": wanted.name,
                "description": wanted.description,
                "public": wanted.public,
                "group": wanted.group,
            }.items()
            if getattr(current, key) != value
        }

        async def txn(session: AsyncClientSession) -> None:
            result = await self._db.services.update_one(
                {"_id": service_id},
                {"$set": {**fields, "updatedAt": now}, "$inc": {"version": 1}},
                session=session,
            )
            if result.matched_count == 0:
                raise not_found("service")
            # Visibility and grouping change what the public page shows.
            await self._db.service_events.insert_one(
                status_event(replace(wanted, updated_at=now), "SERVICE_UPDATED", actor),
                session=session,
            )

        try:
            await self._db.transaction(txn)
        except DuplicateKeyError:
            raise invalid("name", f"a service named {wanted.name!r} already exists") from None
        found = await self.get(service_id)
        if found is None:  # services are never deleted
            raise not_found("service")
        return found

    async def set_status(
        self,
        service_id: str,
        status: ComponentStatus,
        *,
        now: datetime,
        actor: str,
        expected_version: int | None = None,
    ) -> domain.Service:
        """Set the manual override; the effective status follows (worst cause wins).
        With `expected_version`, a service changed since is a CONFLICT, nothing written."""
        if await self.get(service_id) is None:
            raise not_found("service")

        async def txn(session: AsyncClientSession) -> None:
            if expected_version is not None:
                # Read in the transaction: a change committed meanwhile conflicts with
                # this one's writes, and the retry reads it.
                doc = await self._db.services.find_one(
                    {"_id": service_id}, {"version": 1}, session=session
                )
                version = int((doc or {}).get("version", 1))
                if version != expected_version:
                    raise conflict(expected_version, version, "service")
            await self._statuses.refresh(
                [service_id], session=session, now=now, actor=actor, manual={service_id: status}
            )

        await self._db.transaction(txn)
        found = await self.get(service_id)
        if found is None:  # deleted meanwhile: services are never deleted
            raise not_found("service")
        return found

    async def set_statuses(
        self, statuses: Mapping[str, ComponentStatus], *, now: datetime, actor: str
    ) -> list[domain.Service]:
        """Set several manual overrides in one transaction: the status page moves once."""
        ids = list(statuses)
        await self.require(ids, ("input", "id"))

        async def txn(session: AsyncClientSession) -> None:
            await self._statuses.refresh(
                ids, session=session, now=now, actor=actor, manual=dict(statuses)
            )

        await self._db.transaction(txn)
        found = {s.id: s for s in await self.get_many(ids)}
        return [found[i] for i in ids if i in found]

    async def history(
        self, service_id: str, since: datetime
    ) -> list[tuple[datetime, ComponentStatus]]:
        """Effective status changes from `since` on, led by the status in force at `since`.

        Two range reads on the (serviceId, at) index: their cost depends on
        this component's changes in the window, not on how many incidents exist.
        """
        before = await (
            self._db.service_events.find({"serviceId": service_id, "at": {"$lt": since}})
            .sort("at", -1)
            .limit(1)
            .to_list()
        )
        after = await (
            self._db.service_events.find({"serviceId": service_id, "at": {"$gte": since}})
            .sort("at", 1)
            .to_list()
        )
        points = [(since, ComponentStatus(d["status"])) for d in before]
        points += [(d["at"], ComponentStatus(d["status"])) for d in after]
        return points
