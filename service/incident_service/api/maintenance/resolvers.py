"""Maintenance queries and mutations."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import strawberry

from incident_service import clock
from incident_service.api.common import PageInfo, payload
from incident_service.api.context import Info
from incident_service.api.maintenance.types import (
    EndMaintenanceInput,
    Maintenance,
    MaintenanceConnection,
    MaintenanceEdge,
    MaintenanceFilter,
    MaintenancePayload,
    ScheduleMaintenanceInput,
    UpdateMaintenanceInput,
)
from incident_service.api.permissions import IsResponder, IsViewer
from incident_service.domain import maintenance as domain
from incident_service.domain import validation


def _max_window(info: Info) -> timedelta:
    return timedelta(days=info.context.settings.maintenance_max_days)


async def _services(info: Info, raw: list[strawberry.ID]) -> list[str]:
    ids = [validation.object_id(i, "serviceIds") for i in raw]
    await info.context.services.require(ids, ("input", "serviceIds"))
    return ids


async def _payload(work: Callable[[], Awaitable[domain.Maintenance]]) -> MaintenancePayload:
    return await payload(work, MaintenancePayload.ok, MaintenancePayload.failed)


@strawberry.type
class MaintenanceQueries:
    @strawberry.field(description="One maintenance window.", permission_classes=[IsViewer])
    async def maintenance(self, info: Info, id: strawberry.ID) -> Maintenance | None:
        found = await info.context.maintenances.get(validation.object_id(id))
        return Maintenance.from_domain(found) if found else None

    @strawberry.field(
        description="Maintenance windows, latest start first (Relay connection).",
        permission_classes=[IsViewer],
    )
    async def maintenances(
        self,
        info: Info,
        filter: MaintenanceFilter | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> MaintenanceConnection:
        statuses = tuple(filter.status or ()) if filter else ()
        items, has_next = await info.context.maintenances.page(
            statuses, validation.page_size(first), after
        )
        edges = [MaintenanceEdge(cursor=c, node=Maintenance.from_domain(m)) for m, c in items]
        return MaintenanceConnection(
            edges=edges, page_info=PageInfo.forward([e.cursor for e in edges], has_next)
        )


@strawberry.type
class MaintenanceMutations:
    @strawberry.mutation(
        description="Schedule a maintenance window; it starts and ends at its times by itself.",
        permission_classes=[IsResponder],
    )
    async def schedule_maintenance(
        self, info: Info, input: ScheduleMaintenanceInput
    ) -> MaintenancePayload:
        async def work() -> domain.Maintenance:
            cmd = domain.Schedule(
                title=input.title,
                description=input.description,
                service_ids=await _services(info, input.service_ids),
                starts_at=input.starts_at,
                ends_at=input.ends_at,
                publish=input.publish,
            )
            return await info.context.maintenances.schedule(
                cmd,
                now=clock.now(),
                actor=info.context.principal.actor,
                max_window=_max_window(info),
            )

        return await _payload(work)

    @strawberry.mutation(
        description="Change a window: title, description, services, times (the start only "
        "before it starts), publication.",
        permission_classes=[IsResponder],
    )
    async def update_maintenance(
        self, info: Info, input: UpdateMaintenanceInput
    ) -> MaintenancePayload:
        async def work() -> domain.Maintenance:
            changes = domain.Changes(
                title=input.title,
                description=input.description,
                service_ids=(
                    await _services(info, input.service_ids)
                    if input.service_ids is not None
                    else None
                ),
                starts_at=input.starts_at,
                ends_at=input.ends_at,
                publish=input.publish,
            )
            now, window = clock.now(), _max_window(info)
            return await info.context.maintenances.change(
                validation.object_id(input.id),
                lambda m: domain.change(m, changes, now=now, max_window=window),
                actor=info.context.principal.actor,
                event="MAINTENANCE_UPDATED",
            )

        return await _payload(work)

    @strawberry.mutation(
        description="Cancel a window that has not started.", permission_classes=[IsResponder]
    )
    async def cancel_maintenance(
        self, info: Info, input: EndMaintenanceInput
    ) -> MaintenancePayload:
        return await _end(info, input, domain.cancel, "MAINTENANCE_CANCELLED")

    @strawberry.mutation(
        description="End a window in progress now (early).", permission_classes=[IsResponder]
    )
    async def complete_maintenance(
        self, info: Info, input: EndMaintenanceInput
    ) -> MaintenancePayload:
        return await _end(info, input, domain.complete, "MAINTENANCE_COMPLETED")


async def _end(
    info: Info,
    input: EndMaintenanceInput,
    command: Callable[[domain.Maintenance, datetime, str | None], domain.Maintenance],
    event: str,
) -> MaintenancePayload:
    now = clock.now()
    return await _payload(
        lambda: info.context.maintenances.change(
            validation.object_id(input.id),
            lambda m: command(m, now, input.message),
            actor=info.context.principal.actor,
            event=event,
        )
    )
