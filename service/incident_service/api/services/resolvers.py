"""Service queries and mutations."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import strawberry

from incident_service import clock
from incident_service.api.common import payload
from incident_service.api.context import Info
from incident_service.api.permissions import IsAdmin, IsResponder, IsViewer
from incident_service.api.services.inputs import (
    CreateServiceInput,
    SetServiceStatusInput,
    UpdateServiceInput,
)
from incident_service.api.services.types import Service, ServicePayload, ServicesPayload
from incident_service.domain import service as domain
from incident_service.domain.errors import validation as invalid
from incident_service.domain.validation import object_id
from incident_service.store.services import ServiceChanges

#: Services one setServiceStatuses call may set.
STATUSES_MAX = 200


async def _payload(work: Callable[[], Awaitable[domain.Service]]) -> ServicePayload:
    return await payload(work, ServicePayload.ok, ServicePayload.failed)


@strawberry.type
class ServiceQueries:
    @strawberry.field(description="All services, by name.", permission_classes=[IsViewer])
    async def services(self, info: Info) -> list[Service]:
        return [Service.from_domain(s) for s in await info.context.services.all()]


@strawberry.type
class ServiceMutations:
    @strawberry.mutation(description="Create a service.", permission_classes=[IsAdmin])
    async def create_service(self, info: Info, input: CreateServiceInput) -> ServicePayload:
        return await _payload(
            lambda: info.context.services.create(
                input.name,
                input.description,
                now=clock.now(),
                actor=info.context.principal.actor,
                public=input.public,
                group=input.group,
            )
        )

    @strawberry.mutation(
        description="Change a service's name, description, public visibility or group.",
        permission_classes=[IsAdmin],
    )
    async def update_service(self, info: Info, input: UpdateServiceInput) -> ServicePayload:
        async def work() -> domain.Service:
            return await info.context.services.update(
                object_id(input.id),
                ServiceChanges(
                    name=input.name,
                    description=input.description,
                    public=input.public,
                    group=input.group,
                ),
                now=clock.now(),
                actor=info.context.principal.actor,
            )

        return await _payload(work)

    @strawberry.mutation(
        description="Set the manual status of several services at once, in one transaction: "
        "the status page moves once (a disaster takes down many sites together). At most 200; "
        "each service once.",
        permission_classes=[IsResponder],
    )
    async def set_service_statuses(
        self, info: Info, input: list[SetServiceStatusInput]
    ) -> ServicesPayload:
        async def work() -> list[domain.Service]:
            if not input or len(input) > STATUSES_MAX:
                raise invalid("input", f"give 1 to {STATUSES_MAX} services")
            statuses = {object_id(i.id): i.status for i in input}
            if len(statuses) != len(input):
                raise invalid("input", "each service may appear only once")
            return await info.context.services.set_statuses(
                statuses, now=clock.now(), actor=info.context.principal.actor
            )

        return await payload(work, ServicesPayload.ok, ServicesPayload.failed)

    @strawberry.mutation(
        description="Set a service's manual status (an override); its effective status is the "
        "worst of this, open incident impacts and maintenance. The status page follows.",
        permission_classes=[IsResponder],
    )
    async def set_service_status(self, info: Info, input: SetServiceStatusInput) -> ServicePayload:
        async def work() -> domain.Service:
            return await info.context.services.set_status(
                object_id(input.id),
                input.status,
                now=clock.now(),
                actor=info.context.principal.actor,
                expected_version=input.expected_version,
            )

        return await _payload(work)
