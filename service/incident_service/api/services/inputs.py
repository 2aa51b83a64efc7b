"""GraphQL inputs of service mutations."""

from __future__ import annotations

import strawberry

from incident_service.api.common import ComponentStatus


@strawberry.input(description="Create a service; it starts OPERATIONAL.")
class CreateServiceInput:
    name: str = strawberry.field(description="Unique name, 1..200 characters.")
    description: str | None = strawberry.field(default=None, description="What it is.")


@strawberry.input(description="Set a service's status on the status page.")
class SetServiceStatusInput:
    id: strawberry.ID = strawberry.field(description="The service.")
    status: ComponentStatus = strawberry.field(description="The new status.")
