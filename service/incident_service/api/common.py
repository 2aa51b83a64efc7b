"""Types shared by every part of the schema: enums, user errors, paging."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import strawberry

from incident_service.domain import enums
from incident_service.domain.errors import DomainError
from incident_service.domain.query import IncidentOrder

# The domain enums themselves, registered with Strawberry (which marks the
# class and returns it): one class per vocabulary, and a real type for mypy.
IncidentStatus = enums.IncidentStatus
strawberry.enum(IncidentStatus, description="Internal lifecycle status of an incident.")
PublicStatus = enums.PublicStatus
strawberry.enum(
    PublicStatus, description="Status vocabulary shown to the public (as Statuspage uses it)."
)
Impact = enums.Impact
strawberry.enum(Impact, description="How much of the business is affected.")
Urgency = enums.Urgency
strawberry.enum(Urgency, description="How fast the business needs it fixed.")
Priority = enums.Priority
strawberry.enum(
    Priority, description="Derived from impact x urgency (ITIL); P1 is the most urgent."
)
IncidentCategory = enums.IncidentCategory
strawberry.enum(IncidentCategory, description="What kind of incident.")
IncidentRole = enums.IncidentRole
strawberry.enum(IncidentRole, description="A role in the response team.")
Visibility = enums.Visibility
strawberry.enum(Visibility, description="PUBLIC reaches the status page; INTERNAL never does.")
ComponentStatus = enums.ComponentStatus
strawberry.enum(ComponentStatus, description="Status of a service as shown on the status page.")
LinkKind = enums.LinkKind
strawberry.enum(
    LinkKind,
    description="How two incidents are related: RELATED, DUPLICATE_OF, or PARENT_OF (a major "
    "incident and one of the incidents it gathers).",
)
MaintenanceStatus = enums.MaintenanceStatus
strawberry.enum(
    MaintenanceStatus,
    description="SCHEDULED -> IN_PROGRESS -> COMPLETED at its times; CANCELLED before it starts.",
)
strawberry.enum(IncidentOrder, description="Order of the incident list.")
IntegrationKind = enums.IntegrationKind
strawberry.enum(
    IntegrationKind,
    description="The sender an integration is for: Prometheus Alertmanager or PagerDuty Events v2.",
)
AlertStatus = enums.AlertStatus
strawberry.enum(AlertStatus, description="TRIGGERED -> ACKNOWLEDGED -> RESOLVED.")
AlertAction = enums.AlertAction
strawberry.enum(AlertAction, description="What an alert event does (Events v2 event_action).")
Severity = enums.Severity
strawberry.enum(
    Severity, description="Alert severity; it maps to impact x urgency and a component impact."
)

D = TypeVar("D")
P = TypeVar("P")


@strawberry.type(description="An expected failure of a mutation; nothing was written.")
class UserError:
    field: list[str] | None = strawberry.field(
        description='Path to the input field at fault, e.g. ["input", "title"].'
    )
    code: str = strawberry.field(
        description="VALIDATION, NOT_FOUND, INVALID_TRANSITION, CONFLICT, RATE_LIMITED, "
        "UNAVAILABLE, POSTMORTEM_REQUIRED (closing before the postmortem is published), "
        "CHILDREN_OPEN (resolving a major incident before the incidents it gathers) or "
        "IDEMPOTENCY_KEY_REUSED (an idempotencyKey sent again with a different declaration)."
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

    @classmethod
    def forward(cls, cursors: list[str], has_next: bool) -> PageInfo:
        """Page info of a forward-only page whose edges carry `cursors`, in order."""
        return cls(
            has_next_page=has_next,
            has_previous_page=False,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        )


async def payload(
    work: Callable[[], Awaitable[D]],
    ok: Callable[[D], P],
    failed: Callable[[list[UserError]], P],
) -> P:
    """A mutation's payload: `ok(result)`, or `failed(userErrors)` for an expected failure.

    A DomainError means nothing was written (the store writes all or nothing).
    """
    try:
        result = await work()
    except DomainError as error:
        return failed([UserError.from_domain(error)])
    return ok(result)


async def no_count() -> int:
    """The totalCount of a connection known to be empty (nothing to count)."""
    return 0
