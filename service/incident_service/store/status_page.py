"""Reads for the public status page: services, published incidents, their public updates,
published maintenance windows. Every read is index-backed and bounded."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta

from incident_service import clock
from incident_service.domain import status_page
from incident_service.domain.enums import ComponentStatus, Visibility
from incident_service.domain.incident import Event, Incident
from incident_service.domain.lifecycle import OPEN_STATUSES
from incident_service.domain.service import Service
from incident_service.domain.uptime import MAX_DAYS, window_start
from incident_service.store import codec
from incident_service.store.codec import Doc
from incident_service.store.components import STATUS_CHANGED
from incident_service.store.database import Database
from incident_service.store.maintenances import MaintenanceStore
from incident_service.store.postmortems import public_for

#: Bounds one page build however many incidents are public at once.
MAX_ACTIVE = 100
MAX_RECENT = 100


class StatusPageStore:
    def __init__(
        self, database: Database, maintenances: MaintenanceStore, history_days: int
    ) -> None:
        self._db = database
        self._maintenances = maintenances
        self.history_days = history_days

    async def load(self, now: datetime | None = None) -> status_page.StatusPage:
        now = now or clock.now()
        since = now - timedelta(days=self.history_days)
        # Independent reads run concurrently: a page build waits for the slowest
        # one, not for their sum (it is on the path of every live update).
        service_docs, active, recent, maintenances = await asyncio.gather(
            self._db.services.find({}).to_list(),
            # Served by the `public_active` index (visibility, status).
            self._db.incidents.find(
                {
                    "visibility": Visibility.PUBLIC.value,
                    "restricted": {"$ne": True},
                    "status": {"$in": sorted(s.value for s in OPEN_STATUSES)},
                }
            )
            .sort("declaredAt", -1)
            .limit(MAX_ACTIVE)
            .to_list(),
            # Served by the `public_recent` index (visibility, resolvedAt).
            self._db.incidents.find(
                {
                    "visibility": Visibility.PUBLIC.value,
                    "restricted": {"$ne": True},
                    "resolvedAt": {"$gte": since},
                }
            )
            .sort("resolvedAt", -1)
            .limit(MAX_RECENT)
            .to_list(),
            self._maintenances.for_status_page(since),
        )
        services = [codec.service_from_doc(d) for d in service_docs]
        incidents = [codec.incident_from_doc(d) for d in _unique(active, recent)]
        updates, history, postmortems = await asyncio.gather(
            self._public_updates(incidents),
            self._uptime_history([s for s in services if s.public], now),
            public_for(self._db, [i.id for i in incidents]),
        )
        return status_page.build(
            services,
            incidents,
            updates,
            now=now,
            maintenances=maintenances,
            history_days=self.history_days,
            uptime_history=history,
            postmortems=postmortems,
        )

    async def _uptime_history(
        self, services: list[Service], now: datetime
    ) -> dict[str, list[tuple[datetime, ComponentStatus]]]:
        """Each component's effective status changes over the longest uptime window.

        One range read on the (serviceId, at) index for all components. The
        status in force at the window's start is the `previous` of the first
        change inside it, or, with no change inside it, the current status.
        """
        if not services:
            return {}
        since = window_start(MAX_DAYS, now)
        docs = await (
            self._db.service_events.find(
                {
                    "serviceId": {"$in": [s.id for s in services]},
                    "at": {"$gte": since},
                    "type": STATUS_CHANGED,
                },
                projection={"serviceId": 1, "at": 1, "status": 1, "data.previous": 1},
            )
            .sort([("serviceId", 1), ("at", 1)])
            .to_list()
        )
        changes: dict[str, list[Doc]] = {}
        for doc in docs:
            changes.setdefault(doc["serviceId"], []).append(doc)
        history: dict[str, list[tuple[datetime, ComponentStatus]]] = {}
        for service in services:
            mine = changes.get(service.id, [])
            first = mine[0].get("data", {}).get("previous") if mine else None
            start = ComponentStatus(first) if first else service.status
            history[service.id] = [(since, start)] + [
                (d["at"], ComponentStatus(d["status"])) for d in mine
            ]
        return history

    async def incident(self, key: str) -> status_page.PublicIncident | None:
        """A published incident by key, with its public updates; None for any other key
        (unknown and internal alike, so the answer tells nothing about existence)."""
        match = re.fullmatch(r"INC-(\d{1,12})", key.strip().upper())
        if not match:
            return None
        doc = await self._db.incidents.find_one(
            {
                "number": int(match.group(1)),
                "visibility": Visibility.PUBLIC.value,
                "restricted": {"$ne": True},
            }
        )
        if doc is None:
            return None
        incident = codec.incident_from_doc(doc)
        services = [
            codec.service_from_doc(d)
            for d in await self._db.services.find(
                {"_id": {"$in": list(incident.service_ids)}, "public": {"$ne": False}}
            ).to_list()
        ]
        components = {s.id: status_page.public_component(s) for s in services if s.public}
        updates, postmortems = await asyncio.gather(
            self._public_updates([incident]), public_for(self._db, [incident.id])
        )
        return status_page.public_incident(
            incident, components, updates, postmortems.get(incident.id)
        )

    async def _public_updates(self, incidents: list[Incident]) -> list[Event]:
        if not incidents:
            return []
        # Served by the `timeline` index (incidentId, seq).
        docs = await self._db.incident_events.find(
            {
                "incidentId": {"$in": [i.id for i in incidents]},
                "type": "UPDATE_POSTED",
                "visibility": Visibility.PUBLIC.value,
            }
        ).to_list()
        return [codec.event_from_doc(d) for d in docs]


def _unique(*groups: list[Doc]) -> list[Doc]:
    seen: dict[str, Doc] = {}
    for group in groups:
        for doc in group:
            seen.setdefault(doc["_id"], doc)
    return list(seen.values())
