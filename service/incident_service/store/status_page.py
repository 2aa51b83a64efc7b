"""Reads for the public status page: services, active public incidents, their updates."""

from __future__ import annotations

from incident_service import clock
from incident_service.domain import status_page
from incident_service.domain.enums import Visibility
from incident_service.domain.lifecycle import OPEN_STATUSES
from incident_service.store import codec
from incident_service.store.database import Database

#: Bounds one page build however many incidents are public at once.
MAX_ACTIVE = 100


class StatusPageStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def load(self) -> status_page.StatusPage:
        services = [codec.service_from_doc(d) for d in await self._db.services.find({}).to_list()]
        # Served by the `public_active` index (visibility, status).
        docs = (
            await self._db.incidents.find(
                {
                    "visibility": Visibility.PUBLIC.value,
                    "status": {"$in": sorted(s.value for s in OPEN_STATUSES)},
                }
            )
            .limit(MAX_ACTIVE)
            .to_list()
        )
        incidents = [codec.incident_from_doc(d) for d in docs]
        events = []
        if incidents:
            # Served by the `timeline` index (incidentId, seq).
            events = [
                codec.event_from_doc(d)
                for d in await self._db.incident_events.find(
                    {
                        "incidentId": {"$in": [i.id for i in incidents]},
                        "type": "UPDATE_POSTED",
                        "visibility": Visibility.PUBLIC.value,
                    }
                ).to_list()
            ]
        return status_page.build(services, incidents, events, now=clock.now())
