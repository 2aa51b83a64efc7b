"""The public status page: built only from public data, by a pure function.

Everything here is a copy of the few fields the public may see. Nothing
internal (notes, roles, root cause, labels, internal updates, internal-only
incidents, internal services, unpublished maintenance) is carried into these
types, so nothing internal can leak through them, whoever selects what. The
GraphQL page, the built-in page, the Statuspage-compatible JSON API and the
feeds are all rendered from these types.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from incident_service.domain.enums import (
    ComponentStatus,
    MaintenanceStatus,
    PublicStatus,
    Visibility,
)
from incident_service.domain.incident import Event, Incident
from incident_service.domain.maintenance import Maintenance
from incident_service.domain.postmortem import Postmortem, PostmortemStatus
from incident_service.domain.service import SEVERITY, Service, overall_status
from incident_service.domain.uptime import UptimeDay, daily, percent

#: Public updates shown per incident, newest first; older ones stay in the timeline.
MAX_UPDATES = 50
DEFAULT_HISTORY_DAYS = 14


@dataclass(frozen=True)
class PublicComponent:
    id: str
    name: str
    description: str | None
    status: ComponentStatus
    updated_at: datetime
    group: str | None = None
    created_at: datetime | None = None
    #: Effective status changes over the uptime window, led by the status at its
    #: start (domain/uptime.py reads it); empty when not loaded.
    history: tuple[tuple[datetime, ComponentStatus], ...] = ()

    def uptime(self, days: int, now: datetime) -> list[UptimeDay]:
        return daily(self.created_at or now, self.history, days, now)

    def uptime_percent(self, days: int, now: datetime) -> float:
        return percent(self.created_at or now, self.history, days, now)


@dataclass(frozen=True)
class PublicUpdate:
    #: Stable: `<key>-<seq>`.
    id: str
    body: str
    public_status: PublicStatus
    at: datetime


@dataclass(frozen=True)
class PublicPostmortem:
    """The public fields of a postmortem published with `public: true`; nothing else of it."""

    summary: str
    customer_impact: str | None
    resolution: str | None
    published_at: datetime


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
    #: The worst status it put a public component in (None: no public component impact).
    worst_impact: ComponentStatus | None = None
    #: When it entered MONITORING (a public milestone; None before, or after a back edge).
    monitoring_at: datetime | None = None
    #: Its public postmortem, once published (Statuspage's status `postmortem`).
    postmortem: PublicPostmortem | None = None


@dataclass(frozen=True)
class PublicMaintenanceUpdate:
    body: str
    status: MaintenanceStatus
    at: datetime


@dataclass(frozen=True)
class PublicMaintenance:
    id: str
    title: str
    description: str | None
    status: MaintenanceStatus
    starts_at: datetime
    ends_at: datetime
    components: tuple[PublicComponent, ...]
    updates: tuple[PublicMaintenanceUpdate, ...]
    updated_at: datetime


@dataclass(frozen=True)
class StatusPage:
    overall_status: ComponentStatus
    updated_at: datetime
    components: tuple[PublicComponent, ...]
    active_incidents: tuple[PublicIncident, ...]
    #: Published incidents resolved within the history window, newest first.
    recent_incidents: tuple[PublicIncident, ...] = ()
    #: Published windows SCHEDULED or IN_PROGRESS, soonest first.
    maintenances: tuple[PublicMaintenance, ...] = ()
    #: Published windows that ended (COMPLETED or CANCELLED) within the history window.
    past_maintenances: tuple[PublicMaintenance, ...] = ()


def public_component(
    s: Service, history: Sequence[tuple[datetime, ComponentStatus]] = ()
) -> PublicComponent:
    return PublicComponent(
        s.id, s.name, s.description, s.status, s.updated_at, s.group, s.created_at, tuple(history)
    )


def public_update(e: Event, key: str, fallback: PublicStatus) -> PublicUpdate | None:
    """A PUBLIC UPDATE_POSTED event as the public sees it; anything else is None."""
    if e.type != "UPDATE_POSTED" or e.visibility is not Visibility.PUBLIC:
        return None
    raw = e.data.get("publicStatus")
    status = (
        PublicStatus(raw) if isinstance(raw, str) and raw in PublicStatus.__members__ else fallback
    )
    return PublicUpdate(f"{key}-{e.seq}", e.message or "", status, e.at)


def public_postmortem(p: Postmortem | None) -> PublicPostmortem | None:
    """A postmortem as the public sees it: only a public, published one, only its public
    fields."""
    if p is None or not p.public or p.status is not PostmortemStatus.PUBLISHED:
        return None
    if p.summary is None or p.published_at is None:
        return None
    return PublicPostmortem(p.summary, p.customer_impact, p.resolution, p.published_at)


def _worst(statuses: Iterable[ComponentStatus]) -> ComponentStatus | None:
    return max(statuses, key=SEVERITY.index, default=None)


def public_incident(
    incident: Incident,
    components: dict[str, PublicComponent],
    events: Iterable[Event],
    postmortem: Postmortem | None = None,
) -> PublicIncident:
    """`components` holds the public components only: others are not named at all."""
    updates = sorted(
        (
            u
            for e in events
            if (u := public_update(e, incident.key, incident.public_status)) is not None
        ),
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
    # A review is of an incident that is over: a reopened one hides it until resolved again.
    shown_postmortem = None if incident.is_open else public_postmortem(postmortem)
    if shown_postmortem is not None:
        moments.append(shown_postmortem.published_at)
    return PublicIncident(
        key=incident.key,
        title=incident.title,
        public_status=incident.public_status,
        components=tuple(components[i] for i in incident.service_ids if i in components),
        updates=tuple(updates),
        declared_at=incident.declared_at,
        updated_at=max(m for m in moments if m is not None),
        resolved_at=incident.resolved_at,
        worst_impact=_worst(
            i.status for i in incident.component_impacts if i.service_id in components
        ),
        monitoring_at=incident.mitigated_at,
        postmortem=shown_postmortem,
    )


def is_published(incident: Incident) -> bool:
    return incident.visibility is Visibility.PUBLIC


def public_maintenance(m: Maintenance, components: dict[str, PublicComponent]) -> PublicMaintenance:
    return PublicMaintenance(
        id=m.id,
        title=m.title,
        description=m.description,
        status=m.status,
        starts_at=m.starts_at,
        ends_at=m.ends_at,
        components=tuple(components[i] for i in m.service_ids if i in components),
        updates=tuple(
            PublicMaintenanceUpdate(u.body, u.status, u.at)
            for u in sorted(m.updates, key=lambda u: u.at, reverse=True)
        ),
        updated_at=m.updated_at,
    )


def build(
    services: Sequence[Service],
    incidents: Sequence[Incident],
    events: Iterable[Event],
    *,
    now: datetime,
    maintenances: Sequence[Maintenance] = (),
    history_days: int = DEFAULT_HISTORY_DAYS,
    uptime_history: Mapping[str, Sequence[tuple[datetime, ComponentStatus]]] | None = None,
    postmortems: Mapping[str, Postmortem] | None = None,
) -> StatusPage:
    """The page from services, candidate incidents, their events and maintenance windows.

    Internal services, unpublished incidents and unpublished windows are
    dropped here again, whatever the caller passed, so the rule lives in one
    place. Components are ordered by group (ungrouped first), then by name.
    """
    by_incident: dict[str, list[Event]] = {}
    for e in events:
        by_incident.setdefault(e.incident_id, []).append(e)
    histories = uptime_history or {}
    components = {s.id: public_component(s, histories.get(s.id, ())) for s in services if s.public}
    reviews = postmortems or {}
    shown = [
        (i, public_incident(i, components, by_incident.get(i.id, ()), reviews.get(i.id)))
        for i in incidents
        if is_published(i)
    ]
    active_incidents = sorted(
        (p for i, p in shown if i.is_open), key=lambda p: p.declared_at, reverse=True
    )
    since = now - timedelta(days=history_days)
    recent = sorted(
        (p for i, p in shown if not i.is_open and p.resolved_at and p.resolved_at >= since),
        key=lambda p: p.resolved_at or p.declared_at,
        reverse=True,
    )
    published = [m for m in maintenances if m.published]
    upcoming = sorted(
        (public_maintenance(m, components) for m in published if m.active),
        key=lambda m: m.starts_at,
    )
    past = sorted(
        (
            public_maintenance(m, components)
            for m in published
            if not m.active and (m.ended_at or m.ends_at) >= since
        ),
        key=lambda m: m.ends_at,
        reverse=True,
    )
    ordered = tuple(sorted(components.values(), key=lambda c: (c.group or "", c.name.lower())))
    moments = [c.updated_at for c in ordered]
    moments += [p.updated_at for p in (*active_incidents, *recent)]
    moments += [m.updated_at for m in (*upcoming, *past)]
    return StatusPage(
        overall_status=overall_status(c.status for c in ordered),
        updated_at=max(moments, default=now),
        components=ordered,
        active_incidents=tuple(active_incidents),
        recent_incidents=tuple(recent),
        maintenances=tuple(upcoming),
        past_maintenances=tuple(past),
    )
