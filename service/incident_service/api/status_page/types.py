"""Public types of the status page: separate types holding only public fields.

They are built from domain.status_page, which copies nothing internal, so no
selection can reach notes, roles, labels, root cause or internal updates.
"""

from __future__ import annotations

from datetime import datetime

import strawberry

from incident_service.api.common import ComponentStatus, PublicStatus
from incident_service.domain import status_page as domain


@strawberry.type(description="A component (service) as the public sees it.")
class PublicComponent:
    name: str = strawberry.field(description="Component name.")
    description: str | None = strawberry.field(description="What it is.")
    status: ComponentStatus = strawberry.field(description="Current status.")
    updated_at: datetime = strawberry.field(description="Last status change.")

    @classmethod
    def from_domain(cls, c: domain.PublicComponent) -> PublicComponent:
        return cls(name=c.name, description=c.description, status=c.status, updated_at=c.updated_at)


@strawberry.type(description="A public status update of an incident.")
class PublicUpdate:
    body: str = strawberry.field(description="The update text.")
    public_status: PublicStatus = strawberry.field(
        description="The incident's public status when the update was posted."
    )
    at: datetime = strawberry.field(description="When it was posted.")


@strawberry.type(description="An incident as the public sees it on the status page.")
class PublicIncident:
    key: str = strawberry.field(description="Human key, e.g. INC-42.")
    title: str = strawberry.field(description="Short summary.")
    public_status: PublicStatus = strawberry.field(
        description="INVESTIGATING, IDENTIFIED, MONITORING or RESOLVED."
    )
    components: list[PublicComponent] = strawberry.field(description="Affected components.")
    updates: list[PublicUpdate] = strawberry.field(description="Public updates, newest first.")
    declared_at: datetime = strawberry.field(description="When it began.")
    updated_at: datetime = strawberry.field(description="Last publicly visible change.")
    resolved_at: datetime | None = strawberry.field(description="When it was resolved.")

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
        )


@strawberry.type(description="The public status page: components and active public incidents.")
class StatusPage:
    # Same object for every subscriber, built only from public data: one
    # execution per operation serves them all (api/subscriptions/shared_execution.py).
    SHARED_EVENT = True

    overall_status: ComponentStatus = strawberry.field(
        description="The worst status of any component (OPERATIONAL when there are none)."
    )
    updated_at: datetime = strawberry.field(description="Last change of anything on the page.")
    components: list[PublicComponent] = strawberry.field(description="All components, by name.")
    active_incidents: list[PublicIncident] = strawberry.field(
        description="Public incidents not yet resolved, newest first."
    )

    @classmethod
    def from_domain(cls, p: domain.StatusPage) -> StatusPage:
        return cls(
            overall_status=p.overall_status,
            updated_at=p.updated_at,
            components=[PublicComponent.from_domain(c) for c in p.components],
            active_incidents=[PublicIncident.from_domain(i) for i in p.active_incidents],
        )
