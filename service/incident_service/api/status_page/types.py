"""Public types of the status page: separate types holding only public fields.

They are built from domain.status_page, which copies nothing internal, so no
selection can reach notes, roles, labels, root cause, internal updates,
internal services or unpublished maintenance.
"""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from incident_service import clock
from incident_service.api.common import ComponentStatus, MaintenanceStatus, PublicStatus
from incident_service.domain import status_page as domain
from incident_service.domain import uptime

UPTIME_DAYS = 90


@strawberry.type(description="One UTC day of a component's uptime.")
class UptimeDay:
    date: date = strawberry.field(description="The day (UTC).")
    worst_status: ComponentStatus | None = strawberry.field(
        description="The worst status the component had that day; null before it existed."
    )
    outage_seconds: float = strawberry.field(
        description="Downtime that day: seconds in MAJOR_OUTAGE plus 30% of seconds in "
        "PARTIAL_OUTAGE (Statuspage's rule). Maintenance is not downtime."
    )
    degraded_seconds: float = strawberry.field(
        description="Seconds in DEGRADED_PERFORMANCE (reported, not downtime)."
    )


@strawberry.type(description="A component (service) as the public sees it.")
class PublicComponent:
    name: str = strawberry.field(description="Component name.")
    description: str | None = strawberry.field(description="What it is.")
    status: ComponentStatus = strawberry.field(description="Current status.")
    group: str | None = strawberry.field(description="Display group, if any.")
    updated_at: datetime = strawberry.field(description="Last status change.")
    source: strawberry.Private[domain.PublicComponent]

    @classmethod
    def from_domain(cls, c: domain.PublicComponent) -> PublicComponent:
        return cls(
            name=c.name,
            description=c.description,
            status=c.status,
            group=c.group,
            updated_at=c.updated_at,
            source=c,
        )

    # Synchronous and computed from the page's own data (no I/O, no caller),
    # so a shared status page event still executes once per operation.
    @strawberry.field(
        description="Uptime per UTC day over the last `days` days (1..366), oldest first, "
        "ending today."
    )
    def uptime(self, days: int = UPTIME_DAYS) -> list[UptimeDay]:
        uptime.check_days(days)
        return [
            UptimeDay(
                date=d.date,
                worst_status=d.worst_status,
                outage_seconds=d.outage_seconds,
                degraded_seconds=d.degraded_seconds,
            )
            for d in self.source.uptime(days, clock.now())
        ]

    @strawberry.field(
        description="Uptime over the last `days` days (1..366) as a percentage of the time the "
        "component existed in them: 100 minus downtime (see UptimeDay.outageSeconds)."
    )
    def uptime_percent(self, days: int = UPTIME_DAYS) -> float:
        uptime.check_days(days)
        return self.source.uptime_percent(days, clock.now())


@strawberry.type(description="A public status update of an incident.")
class PublicUpdate:
    body: str = strawberry.field(description="The update text.")
    public_status: PublicStatus = strawberry.field(
        description="The incident's public status when the update was posted."
    )
    at: datetime = strawberry.field(description="When it was posted.")


@strawberry.type(
    description="A postmortem published for the public: only the fields written for customers."
)
class PublicPostmortem:
    summary: str = strawberry.field(description="What happened.")
    customer_impact: str | None = strawberry.field(description="What customers experienced.")
    resolution: str | None = strawberry.field(description="How it was fixed.")
    published_at: datetime = strawberry.field(description="When it was published.")

    @classmethod
    def from_domain(cls, p: domain.PublicPostmortem | None) -> PublicPostmortem | None:
        if p is None:
            return None
        return cls(
            summary=p.summary,
            customer_impact=p.customer_impact,
            resolution=p.resolution,
            published_at=p.published_at,
        )


@strawberry.type(description="An incident as the public sees it on the status page.")
class PublicIncident:
    key: str = strawberry.field(description="Human key, e.g. INC-42.")
    title: str = strawberry.field(description="Short summary.")
    public_status: PublicStatus = strawberry.field(
        description="INVESTIGATING, IDENTIFIED, MONITORING or RESOLVED."
    )
    components: list[PublicComponent] = strawberry.field(description="Affected public components.")
    updates: list[PublicUpdate] = strawberry.field(description="Public updates, newest first.")
    declared_at: datetime = strawberry.field(description="When it began.")
    updated_at: datetime = strawberry.field(description="Last publicly visible change.")
    resolved_at: datetime | None = strawberry.field(
        description="When it was resolved; null while it is not."
    )
    postmortem: PublicPostmortem | None = strawberry.field(
        description="Its postmortem, once published for the public; null otherwise."
    )

    @classmethod
    def from_domain(cls, i: domain.PublicIncident) -> PublicIncident:
        return cls(
            key=i.key,
            title=i.title,
            public_status=i.public_status,
            components=[PublicComponent.from_domain(c) for c in i.components],
            updates=[
                PublicUpdate(body=u.body, public_status=u.public_status, at=u.at) for u in i.updates
            ],
            declared_at=i.declared_at,
            updated_at=i.updated_at,
            resolved_at=i.resolved_at,
            postmortem=PublicPostmortem.from_domain(i.postmortem),
        )


@strawberry.type(description="A public update of a maintenance window.")
class PublicMaintenanceUpdate:
    body: str = strawberry.field(description="The update text.")
    status: MaintenanceStatus = strawberry.field(description="The window's status then.")
    at: datetime = strawberry.field(description="When it was posted.")


@strawberry.type(description="A published maintenance window as the public sees it.")
class PublicMaintenance:
    id: strawberry.ID = strawberry.field(description="Opaque id.")
    title: str = strawberry.field(description="What is being done.")
    description: str | None = strawberry.field(description="Details.")
    status: MaintenanceStatus = strawberry.field(
        description="SCHEDULED, IN_PROGRESS, COMPLETED or CANCELLED."
    )
    starts_at: datetime = strawberry.field(description="Planned start.")
    ends_at: datetime = strawberry.field(description="Planned end.")
    components: list[PublicComponent] = strawberry.field(
        description="Public components under maintenance."
    )
    updates: list[PublicMaintenanceUpdate] = strawberry.field(description="Newest first.")

    @classmethod
    def from_domain(cls, m: domain.PublicMaintenance) -> PublicMaintenance:
        return cls(
            id=strawberry.ID(m.id),
            title=m.title,
            description=m.description,
            status=m.status,
            starts_at=m.starts_at,
            ends_at=m.ends_at,
            components=[PublicComponent.from_domain(c) for c in m.components],
            updates=[
                PublicMaintenanceUpdate(body=u.body, status=u.status, at=u.at) for u in m.updates
            ],
        )


@strawberry.type(
    description="The public status page: components, active and recent public incidents, "
    "maintenance."
)
class StatusPage:
    # Same object for every subscriber, built only from public data: one
    # execution per operation serves them all (api/subscriptions/shared_execution.py).
    SHARED_EVENT = True

    overall_status: ComponentStatus = strawberry.field(
        description="The worst status of any public component (OPERATIONAL when there are none)."
    )
    updated_at: datetime = strawberry.field(description="Last change of anything on the page.")
    components: list[PublicComponent] = strawberry.field(
        description="Public components, by group (ungrouped first), then by name."
    )
    active_incidents: list[PublicIncident] = strawberry.field(
        description="Published incidents not yet resolved, newest first."
    )
    recent_incidents: list[PublicIncident] = strawberry.field(
        description="Published incidents resolved within the history window "
        "(STATUS_PAGE_HISTORY_DAYS), most recently resolved first."
    )
    maintenances: list[PublicMaintenance] = strawberry.field(
        description="Published maintenance windows SCHEDULED or IN_PROGRESS, soonest first."
    )

    @classmethod
    def from_domain(cls, p: domain.StatusPage) -> StatusPage:
        return cls(
            overall_status=p.overall_status,
            updated_at=p.updated_at,
            components=[PublicComponent.from_domain(c) for c in p.components],
            active_incidents=[PublicIncident.from_domain(i) for i in p.active_incidents],
            recent_incidents=[PublicIncident.from_domain(i) for i in p.recent_incidents],
            maintenances=[PublicMaintenance.from_domain(m) for m in p.maintenances],
        )
