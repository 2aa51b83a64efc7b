"""GraphQL inputs of service mutations."""

from __future__ import annotations

import strawberry

from incident_service.api.common import ComponentStatus


@strawberry.input(description="Create a service; it starts OPERATIONAL.")
class CreateServiceInput:
    name: str = strawberry.field(description="Unique name, 1..200 characters.")
    description: str | None = strawberry.field(default=None, description="What it is.")
    public: bool = strawberry.field(
        default=True, description="Shown on the public status page (false: internal only)."
    )
    group: str | None = strawberry.field(
        default=None, description="Display group on the status page, up to 100 characters."
    )


@strawberry.input(description="Change a service's settings; omitted fields stay as they are.")
class UpdateServiceInput:
    id: strawberry.ID = strawberry.field(description="The service.")
    name: str | None = strawberry.field(default=None, description="New unique name.")
    description: str | None = strawberry.field(default=None, description="New description.")
    public: bool | None = strawberry.field(
        default=None, description="Shown on the public status page, or not."
    )
    group: str | None = strawberry.field(
        default=None, description='New display group; "" removes it.'
    )


@strawberry.input(description="Set a service's manual status (an override).")
class SetServiceStatusInput:
    id: strawberry.ID = strawberry.field(description="The service.")
    status: ComponentStatus = strawberry.field(
        description="The manual status; OPERATIONAL clears the override. The effective status "
        "stays the worst of this, open incident impacts and maintenance."
    )
    expected_version: int | None = strawberry.field(
        default=None,
        description="If given, the change is refused with CONFLICT when the service's version "
        "(which every status or settings change raises) is no longer this.",
    )
