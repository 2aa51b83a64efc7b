"""GraphQL types and inputs of maintenance windows (the internal view)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from incident_service.api.common import MaintenanceStatus, PageInfo, UserError
from incident_service.api.context import Info
from incident_service.domain import maintenance as domain

if TYPE_CHECKING:
    from incident_service.api.services.types import Service


@strawberry.type(description="An update of a maintenance window.")
class MaintenanceUpdate:
    body: str = strawberry.field(description="The text.")
    status: MaintenanceStatus = strawberry.field(description="The window's status then.")
    at: datetime = strawberry.field(description="When.")


@strawberry.type(
    description="A scheduled maintenance window. It starts and ends at its times by itself; "
    "while IN_PROGRESS its services are UNDER_MAINTENANCE unless something worse holds them."
)
class Maintenance:
    id: strawberry.ID = strawberry.field(description="Opaque id.")
    title: str = strawberry.field(description="What is being done.")
    description: str | None = strawberry.field(description="Details.")
    status: MaintenanceStatus = strawberry.field(description="Where the window is.")
    starts_at: datetime = strawberry.field(description="Planned start.")
    ends_at: datetime = strawberry.field(description="Planned end.")
    published: bool = strawberry.field(
        description="Shown on the public status page, JSON API and feeds."
    )
    started_at: datetime | None = strawberry.field(description="When it actually started.")
    ended_at: datetime | None = strawberry.field(description="When it completed or was cancelled.")
    created_at: datetime = strawberry.field(description="When it was scheduled.")
    created_by: str = strawberry.field(description="Who scheduled it.")
    updated_at: datetime = strawberry.field(description="Last change.")
    version: int = strawberry.field(description="Increases by one on every change.")
    updates: list[MaintenanceUpdate] = strawberry.field(description="Oldest first.")
    service_ids: strawberry.Private[tuple[str, ...]]

    @classmethod
    def from_domain(cls, m: domain.Maintenance) -> Maintenance:
        return cls(
            id=strawberry.ID(m.id),
            title=m.title,
            description=m.description,
            status=m.status,
            starts_at=m.starts_at,
            ends_at=m.ends_at,
            published=m.published,
            started_at=m.started_at,
            ended_at=m.ended_at,
            created_at=m.created_at,
            created_by=m.created_by,
            updated_at=m.updated_at,
            version=m.version,
            updates=[MaintenanceUpdate(body=u.body, status=u.status, at=u.at) for u in m.updates],
            service_ids=m.service_ids,
        )

    @strawberry.field(description="The services under maintenance.")
    async def services(
        self, info: Info
    ) -> list[Annotated[Service, strawberry.lazy("incident_service.api.services.types")]]:
        from incident_service.api.services.types import Service

        loaded = await info.context.service_loader.load_many(list(self.service_ids))
        return [Service.from_domain(s) for s in loaded if s is not None]


@strawberry.type(description="An edge of the maintenance list.")
class MaintenanceEdge:
    cursor: str = strawberry.field(description="Opaque cursor; pass as `after`.")
    node: Maintenance = strawberry.field(description="The window.")


@strawberry.type(description="A page of maintenance windows, latest start first.")
class MaintenanceConnection:
    edges: list[MaintenanceEdge] = strawberry.field(description="The windows on this page.")
    page_info: PageInfo = strawberry.field(description="Paging information.")


@strawberry.type(description="Result of a maintenance mutation.")
class MaintenancePayload:
    maintenance: Maintenance | None = strawberry.field(
        description="The window after the change (null when nothing could be done)."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Expected failures; when non-empty nothing was written."
    )

    @classmethod
    def ok(cls, m: domain.Maintenance) -> MaintenancePayload:
        return cls(maintenance=Maintenance.from_domain(m), user_errors=[])

    @classmethod
    def failed(cls, errors: list[UserError]) -> MaintenancePayload:
        return cls(maintenance=None, user_errors=errors)


@strawberry.input(description="Filter for the maintenance list.")
class MaintenanceFilter:
    status: list[MaintenanceStatus] | None = strawberry.field(
        default=None, description="Any of these statuses."
    )


@strawberry.input(description="Schedule a maintenance window.")
class ScheduleMaintenanceInput:
    title: str = strawberry.field(description="What is being done, 1..200 characters.")
    description: str | None = strawberry.field(default=None, description="Details.")
    service_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="The services under maintenance."
    )
    starts_at: datetime = strawberry.field(description="Start (a past time starts it at once).")
    ends_at: datetime = strawberry.field(
        description="End; after startsAt, in the future, at most MAINTENANCE_MAX_DAYS later."
    )
    publish: bool = strawberry.field(
        default=True, description="Show it on the public page, JSON API and feeds."
    )


@strawberry.input(description="Change a window; omitted fields stay as they are.")
class UpdateMaintenanceInput:
    id: strawberry.ID = strawberry.field(description="The window.")
    title: str | None = strawberry.field(default=None, description="New title.")
    description: str | None = strawberry.field(default=None, description="New description.")
    service_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Replace the services."
    )
    starts_at: datetime | None = strawberry.field(
        default=None, description="New start (only before it has started)."
    )
    ends_at: datetime | None = strawberry.field(default=None, description="New end.")
    publish: bool | None = strawberry.field(default=None, description="Publish or hide it.")


@strawberry.input(description="End a window now, or cancel one that has not started.")
class EndMaintenanceInput:
    id: strawberry.ID = strawberry.field(description="The window.")
    message: str | None = strawberry.field(
        default=None, description="The update to post (a default text otherwise)."
    )
