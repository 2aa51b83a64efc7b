"""Public status pages for the web unit tests, built from the public types directly."""

from __future__ import annotations

from incident_service.domain.enums import ComponentStatus, MaintenanceStatus, PublicStatus
from incident_service.domain.status_page import (
    PublicComponent,
    PublicIncident,
    PublicMaintenance,
    PublicMaintenanceUpdate,
    PublicUpdate,
    StatusPage,
)
from incident_service.web.links import Site
from tests.unit.helpers import T0, at

SITE = Site(id="abcdef012345", name="Acme status", url="https://status.example.com")

API = PublicComponent(
    "s-api", "API", "The public API", ComponentStatus.MAJOR_OUTAGE, at(5), "Core", T0
)
WEB = PublicComponent("s-web", "Web", None, ComponentStatus.OPERATIONAL, at(1), "Core", T0)
DOCS = PublicComponent("s-docs", "Docs", None, ComponentStatus.OPERATIONAL, at(2), None, T0)


def incident(
    key: str = "INC-12",
    status: PublicStatus = PublicStatus.IDENTIFIED,
    worst: ComponentStatus | None = ComponentStatus.MAJOR_OUTAGE,
    declared: int = 5,
    resolved: int | None = None,
) -> PublicIncident:
    updates = (
        PublicUpdate(f"{key}-4", "Fix on its way", PublicStatus.IDENTIFIED, at(declared + 10)),
        PublicUpdate(f"{key}-2", "Looking into it", PublicStatus.INVESTIGATING, at(declared + 1)),
    )
    return PublicIncident(
        key=key,
        title=f"{key} checkout errors",
        public_status=status,
        components=(API,),
        updates=updates,
        declared_at=at(declared),
        updated_at=at(declared + 10),
        resolved_at=at(resolved) if resolved is not None else None,
        worst_impact=worst,
    )


def window(
    id_: str = "m1",
    status: MaintenanceStatus = MaintenanceStatus.SCHEDULED,
    starts: int = 120,
) -> PublicMaintenance:
    updates = [PublicMaintenanceUpdate("Scheduled: DB upgrade", MaintenanceStatus.SCHEDULED, at(0))]
    if status is not MaintenanceStatus.SCHEDULED:
        updates.append(PublicMaintenanceUpdate(f"now {status.value}", status, at(starts)))
    return PublicMaintenance(
        id=id_,
        title=f"DB upgrade {id_}",
        description="Postgres 17",
        status=status,
        starts_at=at(starts),
        ends_at=at(starts + 60),
        components=(DOCS,),
        updates=tuple(reversed(updates)),
        updated_at=updates[-1].at,
    )


def page(**fields: object) -> StatusPage:
    base: dict[str, object] = {
        "overall_status": ComponentStatus.MAJOR_OUTAGE,
        "updated_at": at(30),
        "components": (DOCS, API, WEB),
        "active_incidents": (),
    }
    return StatusPage(**{**base, **fields})  # type: ignore[arg-type]
