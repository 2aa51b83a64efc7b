"""Services (status-page components): their settings and the derived-status rule.

A component's status is never remembered by hand: its *effective* status is
the worst of its manual override, the impacts of its open incidents and an
in-progress maintenance window, computed by `derive_status` alone. The
store applies it in the transaction of whatever change moves one of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from incident_service.domain import validation
from incident_service.domain.enums import ComponentStatus
from incident_service.domain.errors import validation as invalid

#: Worst last. UNDER_MAINTENANCE is planned, so it ranks below any outage.
SEVERITY: tuple[ComponentStatus, ...] = (
    ComponentStatus.OPERATIONAL,
    ComponentStatus.UNDER_MAINTENANCE,
    ComponentStatus.DEGRADED_PERFORMANCE,
    ComponentStatus.PARTIAL_OUTAGE,
    ComponentStatus.MAJOR_OUTAGE,
)

#: What an incident may do to a component; OPERATIONAL is no impact at all, and
#: maintenance is scheduled, not declared.
IMPACT_STATUSES = frozenset(
    {
        ComponentStatus.DEGRADED_PERFORMANCE,
        ComponentStatus.PARTIAL_OUTAGE,
        ComponentStatus.MAJOR_OUTAGE,
    }
)

GROUP_MAX = 100
MANUAL = "manual"


@dataclass(frozen=True)
class Service:
    id: str
    name: str
    #: The effective status, as derived by `derive_status`.
    status: ComponentStatus
    created_at: datetime
    updated_at: datetime
    description: str | None = None
    version: int = 1
    #: The manual override (`setServiceStatus`); OPERATIONAL means none.
    manual_status: ComponentStatus = ComponentStatus.OPERATIONAL
    #: Why `status` is what it is: "INC-12: MAJOR_OUTAGE", "maintenance: DB upgrade",
    #: "manual"; None when operational.
    status_reason: str | None = None
    #: Internal services never reach any public output.
    public: bool = True
    #: A display group on the status page (as Statuspage's component groups).
    group: str | None = None


@dataclass(frozen=True)
class Cause:
    """Something that holds a component in a status."""

    status: ComponentStatus
    reason: str


@dataclass(frozen=True)
class Derived:
    status: ComponentStatus
    reason: str | None


def incident_cause(key: str, status: ComponentStatus) -> Cause:
    return Cause(status, f"{key}: {status.value}")


def maintenance_cause(title: str) -> Cause:
    return Cause(ComponentStatus.UNDER_MAINTENANCE, f"maintenance: {title}")


def derive_status(
    manual: ComponentStatus,
    incidents: Iterable[Cause] = (),
    maintenances: Iterable[Cause] = (),
) -> Derived:
    """The effective status and its reason: the worst cause wins.

    On a tie the most specific explanation is given: an incident before a
    maintenance window before the manual override; among incidents, the
    one named first (callers pass them oldest first).
    """
    causes = [*incidents, *maintenances]
    if manual is not ComponentStatus.OPERATIONAL:
        causes.append(Cause(manual, MANUAL))
    worst: Cause | None = None
    for cause in causes:
        if worst is None or SEVERITY.index(cause.status) > SEVERITY.index(worst.status):
            worst = cause
    if worst is None or worst.status is ComponentStatus.OPERATIONAL:
        return Derived(ComponentStatus.OPERATIONAL, None)
    return Derived(worst.status, worst.reason)


def check_group(group: str | None) -> str | None:
    if group is None or not group.strip():
        return None
    if len(group.strip()) > GROUP_MAX:
        raise invalid("group", f"group must be at most {GROUP_MAX} characters")
    return group.strip()


def create(
    id: str,
    name: str,
    description: str | None,
    now: datetime,
    *,
    public: bool = True,
    group: str | None = None,
) -> Service:
    return Service(
        id=id,
        name=validation.name(name, "name"),
        description=validation.text(description, "description"),
        status=ComponentStatus.OPERATIONAL,
        created_at=now,
        updated_at=now,
        public=public,
        group=check_group(group),
    )


def apply_derived(service: Service, derived: Derived, now: datetime) -> Service:
    """The service with a new effective status (unchanged object when nothing moved)."""
    if (service.status, service.status_reason) == (derived.status, derived.reason):
        return service
    return replace(
        service,
        status=derived.status,
        status_reason=derived.reason,
        updated_at=now,
        version=service.version + 1,
    )


def overall_status(statuses: Iterable[ComponentStatus]) -> ComponentStatus:
    return max(statuses, key=SEVERITY.index, default=ComponentStatus.OPERATIONAL)
