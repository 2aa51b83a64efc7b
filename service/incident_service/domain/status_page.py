"""The public status page: built only from public data, by a pure function.

Everything here is a copy of the few fields the public may see. Nothing
internal (notes, roles, root cause, labels, internal updates, internal-only
incidents) is carried into these types, so nothing internal can leak through
them, whoever selects what.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from incident_service.domain.enums import ComponentStatus, PublicStatus, Visibility
from incident_service.domain.incident import Event, Incident
from incident_service.domain.service import Service, overall_status

#: Public updates shown per incident, newest first; older ones stay in the timeline.
MAX_UPDATES = 50


@dataclass(frozen=True)
class PublicComponent:
    name: str
    description: str | None
    status: ComponentStatus
    updated_at: datetime


@dataclass(frozen=True)
class PublicUpdate:
    body: str
    public_status: PublicStatus
    at: datetime


@dataclass(frozen=True)
class PublicIncident:
    key: str
    title: str
    public_status: PublicStatus
    components: tuple[PublicComponent, ...]
    updates: tuple[PublicUpdate, ...]
    declared_at: datetime
    updated_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True)
class StatusPage:
    overall_status: ComponentStatus
    updated_at: datetime
    components: tuple[PublicComponent, ...]
    active_incidents: tuple[PublicIncident, ...]


def public_component(s: Service) -> PublicComponent:
    return PublicComponent(s.name, s.description, s.status, s.updated_at)


def public_update(e: Event, fallback: PublicStatus) -> PublicUpdate | None:
    """A PUBLIC UPDATE_POSTED event as the public sees it; anything else is None."""
    if e.type != "UPDATE_POSTED" or e.visibility is not Visibility.PUBLIC:
        return None
    raw = e.data.get("publicStatus")
    status = (
        PublicStatus(raw) if isinstance(raw, str) and raw in PublicStatus.__members__ else fallback
    )
    return PublicUpdate(e.message or "", status, e.at)


def public_incident(
    incident: Incident, components: dict[str, PublicComponent], events: Iterable[Event]
) -> PublicIncident:
    updates = sorted(
        (u for e in events if (u := public_update(e, incident.public_status)) is not None),
        key=lambda u: u.at,
        reverse=True,
    )[:MAX_UPDATES]
    # Only moments the public could see count: internal notes and role changes
    # must not move `updatedAt` (that would leak that something happened).
    moments = [
        incident.declared_at,
        incident.identified_at,
        incident.mitigated_at,
        incident.resolved_at,
        *(u.at for u in updates[:1]),
    ]
    return PublicIncident(
        key=incident.key,
        title=incident.title,
        public_status=incident.public_status,
        components=tuple(components[i] for i in incident.service_ids if i in components),
        updates=tuple(updates),
        declared_at=incident.declared_at,
        updated_at=max(m for m in moments if m is not None),
        resolved_at=incident.resolved_at,
    )


def build(
    services: Sequence[Service],
    incidents: Sequence[Incident],
    events: Iterable[Event],
    *,
    now: datetime,
) -> StatusPage:
    """The page from services, candidate incidents and their events.

    Incidents that are not PUBLIC or no longer open are dropped here again,
    whatever the caller passed, so the rule lives in one place.
    """
    by_incident: dict[str, list[Event]] = {}
    for e in events:
        by_incident.setdefault(e.incident_id, []).append(e)
    components = {s.id: public_component(s) for s in services}
    active = [
        public_incident(i, components, by_incident.get(i.id, ()))
        for i in incidents
        if i.visibility is Visibility.PUBLIC and i.is_open
    ]
    active.sort(key=lambda p: p.declared_at, reverse=True)
    ordered = tuple(sorted(components.values(), key=lambda c: c.name.lower()))
    moments = [c.updated_at for c in ordered] + [p.updated_at for p in active]
    return StatusPage(
        overall_status=overall_status(c.status for c in ordered),
        updated_at=max(moments, default=now),
        components=ordered,
        active_incidents=tuple(active),
    )
