"""Derived component status, applied inside the transaction of the change that moves it.

Every write that can change what holds a component (an incident's impacts
or open-ness, a manual override, a maintenance window starting or ending)
calls `refresh` with the components it touched, inside its own
transaction. `refresh` reads the causes as that transaction sees them and
writes the result computed by `domain.service.derive_status`.

The service document is written on every refresh, even when its status
stays: two concurrent transactions that each change one cause of the same
component then conflict on it, and one is retried on fresh data. Skipping
the write would let both commit on stale reads (write skew) and leave a
status no recomputation would give.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from incident_service.domain import notifications
from incident_service.domain.enums import ComponentStatus, MaintenanceStatus
from incident_service.domain.service import (
    Cause,
    Derived,
    Service,
    apply_derived,
    derive_status,
    incident_cause,
    maintenance_cause,
)
from incident_service.store import codec
from incident_service.store.codec import Doc
from incident_service.store.database import Database
from incident_service.store.inserts import Inserts
from incident_service.store.outbox import Outbox

STATUS_CHANGED = "SERVICE_STATUS_CHANGED"
MANUAL_SET = "SERVICE_MANUAL_STATUS_SET"


def status_event(service: Service, type_: str, actor: str, **data: Any) -> Doc:
    """A `service_events` document: the change stream's signal and the uptime history."""
    return {
        "serviceId": service.id,
        "type": type_,
        "at": service.updated_at,
        "actor": actor,
        "status": service.status.value,
        "reason": service.status_reason,
        "data": data,
    }


class ComponentStatuses:
    def __init__(self, database: Database, outbox: Outbox) -> None:
        self._db = database
        self._outbox = outbox

    async def causes(
        self, service_id: str, session: AsyncClientSession | None = None
    ) -> tuple[list[Cause], list[Cause]]:
        """What holds a component now: open incident impacts (oldest first), windows in progress."""
        incidents = await (
            self._db.incidents.find(
                {"activeImpactServiceIds": service_id},
                projection={"number": 1, "componentImpacts": 1},
                session=session,
            )
            .sort("number", 1)
            .to_list()
        )
        windows = await (
            self._db.maintenances.find(
                {"serviceIds": service_id, "status": MaintenanceStatus.IN_PROGRESS.value},
                projection={"title": 1, "startsAt": 1},
                session=session,
            )
            .sort("startsAt", 1)
            .to_list()
        )
        return (
            [incident_cause(f"INC-{d['number']}", _impact_of(d, service_id)) for d in incidents],
            [maintenance_cause(d["title"]) for d in windows],
        )

    async def derive(self, service: Service, session: AsyncClientSession | None = None) -> Derived:
        incidents, windows = await self.causes(service.id, session)
        return derive_status(service.manual_status, incidents, windows)

    async def refresh(
        self,
        service_ids: Iterable[str],
        *,
        session: AsyncClientSession,
        now: datetime,
        actor: str,
        manual: dict[str, ComponentStatus] | None = None,
    ) -> list[Service]:
        """Recompute and store the effective status of these components.

        `manual` sets new manual overrides in the same write. Returns the
        services whose effective status or reason changed (each with a
        SERVICE_STATUS_CHANGED event written).
        """
        changed: list[Service] = []
        # The status events and outbox messages of every component, in one command
        # after the loop (store/inserts.py).
        inserts = Inserts()
        messages = []
        for service_id in sorted(set(service_ids)):
            doc = await self._db.services.find_one({"_id": service_id}, session=session)
            if doc is None:
                continue  # never existed: nothing to show
            stored = codec.service_from_doc(doc)
            target = replace(
                stored, manual_status=(manual or {}).get(service_id, stored.manual_status)
            )
            updated = apply_derived(target, await self.derive(target, session), now)
            fields: Doc = {"derivations": (doc.get("derivations") or 0) + 1}
            if updated != stored:
                updated = replace(updated, updated_at=now, version=stored.version + 1)
                fields |= {
                    "manualStatus": updated.manual_status.value,
                    "status": updated.status.value,
                    "statusReason": updated.status_reason,
                    "updatedAt": now,
                    "version": updated.version,
                }
            if updated.manual_status is not stored.manual_status:
                event = status_event(
                    updated,
                    MANUAL_SET,
                    actor,
                    manualStatus=updated.manual_status.value,
                    previousManualStatus=stored.manual_status.value,
                )
                inserts.add(self._db.service_events, [event])
            if (updated.status, updated.status_reason) != (stored.status, stored.status_reason):
                event = status_event(updated, STATUS_CHANGED, actor, previous=stored.status.value)
                inserts.add(self._db.service_events, [event])
                changed.append(updated)
                messages.append(notifications.for_component(updated, stored))
            await self._db.services.update_one(
                {"_id": service_id}, {"$set": fields}, session=session
            )
        # One look at whether anyone may hear of them, however many components changed.
        await self._outbox.add(inserts, messages, session)
        await self._db.insert_together(inserts, session)
        return changed


def _impact_of(doc: Doc, service_id: str) -> ComponentStatus:
    for impact in doc.get("componentImpacts", ()):
        if impact["serviceId"] == service_id and impact.get("endedAt") is None:
            return ComponentStatus(impact["status"])
    # The index says this incident holds the component; its impacts disagree.
    raise ValueError(f"incident {doc['_id']} lists {service_id} without an open impact")
