"""GraphQL types of services."""

from __future__ import annotations

from datetime import datetime

import strawberry

from incident_service.api.common import ComponentStatus, UserError
from incident_service.domain import service as domain


@strawberry.type(
    description="A service (component) that incidents affect; shown on the status page."
)
class Service:
    id: strawberry.ID = strawberry.field(description="Opaque id.")
    name: str = strawberry.field(description="Unique name.")
    description: str | None = strawberry.field(description="What it is.")
    status: ComponentStatus = strawberry.field(
        description="The effective status: the worst of the manual status, the impacts of open "
        "incidents and an in-progress maintenance window."
    )
    manual_status: ComponentStatus = strawberry.field(
        description="The manual override set with setServiceStatus; OPERATIONAL means none."
    )
    status_reason: str | None = strawberry.field(
        description='Why `status` is what it is: "INC-12: MAJOR_OUTAGE", "maintenance: DB '
        'upgrade" or "manual"; null when operational.'
    )
    public: bool = strawberry.field(
        description="Shown on the public status page, JSON API and feeds; internal services "
        "never are, not even by name."
    )
    group: str | None = strawberry.field(
        description="Display group on the status page (components are ordered by group, then name)."
    )
    updated_at: datetime = strawberry.field(description="Last change.")
    version: int = strawberry.field(
        description="Raised by every change of its status or settings; send it as "
        "setServiceStatus's expectedVersion to refuse a change over one you have not seen."
    )

    @classmethod
    def from_domain(cls, s: domain.Service) -> Service:
        return cls(
            id=strawberry.ID(s.id),
            name=s.name,
            description=s.description,
            status=s.status,
            manual_status=s.manual_status,
            status_reason=s.status_reason,
            public=s.public,
            group=s.group,
            updated_at=s.updated_at,
            version=s.version,
        )


@strawberry.type(description="Result of a service mutation.")
class ServicePayload:
    service: Service | None = strawberry.field(description="The service after the change.")
    user_errors: list[UserError] = strawberry.field(
        description="Expected failures; when non-empty nothing was written."
    )

    @classmethod
    def ok(cls, service: domain.Service) -> ServicePayload:
        return cls(service=Service.from_domain(service), user_errors=[])

    @classmethod
    def failed(cls, errors: list[UserError]) -> ServicePayload:
        return cls(service=None, user_errors=errors)


@strawberry.type(description="Result of a mutation on several services.")
class ServicesPayload:
    services: list[Service] | None = strawberry.field(
        description="The services after the change, in the order given (null on failure)."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Expected failures; when non-empty nothing was written."
    )

    @classmethod
    def ok(cls, services: list[domain.Service]) -> ServicesPayload:
        return cls(services=[Service.from_domain(s) for s in services], user_errors=[])

    @classmethod
    def failed(cls, errors: list[UserError]) -> ServicesPayload:
        return cls(services=None, user_errors=errors)
