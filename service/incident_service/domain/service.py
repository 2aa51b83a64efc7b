"""Services (status-page components) and the overall status rule."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from incident_service.domain import validation
from incident_service.domain.enums import ComponentStatus

#: Worst last. UNDER_MAINTENANCE is planned, so it ranks below any outage.
SEVERITY: tuple[ComponentStatus, ...] = (
    ComponentStatus.OPERATIONAL,
    ComponentStatus.UNDER_MAINTENANCE,
    ComponentStatus.DEGRADED_PERFORMANCE,
    ComponentStatus.PARTIAL_OUTAGE,
    ComponentStatus.MAJOR_OUTAGE,
)


@dataclass(frozen=True)
class Service:
    id: str
    name: str
    status: ComponentStatus
    created_at: datetime
    updated_at: datetime
    description: str | None = None
    version: int = 1


def create(id: str, name: str, description: str | None, now: datetime) -> Service:
    return Service(
        id=id,
        name=validation.name(name, "name"),
        description=validation.text(description, "description"),
        status=ComponentStatus.OPERATIONAL,
        created_at=now,
        updated_at=now,
    )


def set_status(service: Service, status: ComponentStatus, now: datetime) -> Service:
    return replace(service, status=status, updated_at=now, version=service.version + 1)


def overall_status(statuses: Iterable[ComponentStatus]) -> ComponentStatus:
    return max(statuses, key=SEVERITY.index, default=ComponentStatus.OPERATIONAL)
