"""Types shared by every part of the schema: enums, user errors, paging."""

from __future__ import annotations

import strawberry

from incident_service.domain import enums
from incident_service.domain.errors import DomainError

IncidentStatus = strawberry.enum(
    enums.IncidentStatus, description="Internal lifecycle status of an incident."
)
PublicStatus = strawberry.enum(
    enums.PublicStatus, description="Status vocabulary shown to the public (as Statuspage uses it)."
)
Impact = strawberry.enum(enums.Impact, description="How much of the business is affected.")
Urgency = strawberry.enum(enums.Urgency, description="How fast the business needs it fixed.")
Priority = strawberry.enum(
    enums.Priority, description="Derived from impact x urgency (ITIL); P1 is the most urgent."
)
IncidentCategory = strawberry.enum(enums.IncidentCategory, description="What kind of incident.")
IncidentRole = strawberry.enum(enums.IncidentRole, description="A role in the response team.")
Visibility = strawberry.enum(
    enums.Visibility, description="PUBLIC reaches the status page; INTERNAL never does."
)
ComponentStatus = strawberry.enum(
    enums.ComponentStatus, description="Status of a service as shown on the status page."
)
LinkKind = strawberry.enum(enums.LinkKind, description="How two incidents are related.")


@strawberry.type(description="An expected failure of a mutation; nothing was written.")
class UserError:
    field: list[str] | None = strawberry.field(
        description='Path to the input field at fault, e.g. ["input", "title"].'
    )
    code: str = strawberry.field(
        description="VALIDATION, NOT_FOUND, INVALID_TRANSITION or CONFLICT."
    )
    message: str = strawberry.field(description="Human-readable explanation.")

    @classmethod
    def from_domain(cls, error: DomainError) -> UserError:
        return cls(
            field=list(error.field) if error.field else None,
            code=error.code.value,
            message=error.message,
        )


@strawberry.type(description="Relay page information.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow endCursor.")
    has_previous_page: bool = strawberry.field(
        description="Always false: lists page forward only, with first/after."
    )
    start_cursor: str | None = strawberry.field(description="Cursor of the first edge.")
    end_cursor: str | None = strawberry.field(description="Pass as `after` for the next page.")
