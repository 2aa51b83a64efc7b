"""The incident list filter and order, and the in-memory twin of the filter.

The store translates an `IncidentQuery` into a database filter; `matches`
applies the same rules to one incident in memory (for `incidentChanged`).
Both must agree, so that a list and a subscription with the same filter agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from incident_service.domain.enums import IncidentCategory, IncidentStatus, Priority, Visibility
from incident_service.domain.incident import Incident, viewers


class IncidentOrder(StrEnum):
    NEWEST_FIRST = "NEWEST_FIRST"
    OLDEST_FIRST = "OLDEST_FIRST"
    PRIORITY = "PRIORITY"


@dataclass(frozen=True)
class IncidentQuery:
    """Every given condition must hold; an empty query matches every incident."""

    statuses: tuple[IncidentStatus, ...] = ()
    priorities: tuple[Priority, ...] = ()
    category: IncidentCategory | None = None
    service_id: str | None = None
    label: str | None = None
    search: str | None = None
    open_only: bool = False
    declared_after: datetime | None = None
    declared_before: datetime | None = None
    visibility: Visibility | None = None
    sla_breached: bool | None = None
    sla_due_before: datetime | None = None
    #: Only incidents this actor may see: unrestricted ones, and restricted ones it takes
    #: part in (domain/restriction.py). None: every incident (ADMIN, or internal use).
    viewer: str | None = None


def matches(query: IncidentQuery, incident: Incident) -> bool:
    """Whether `incident` passes `query`, by the same rules as the database filter."""
    checks = (
        not query.statuses or incident.status in query.statuses,
        not query.priorities or incident.priority in query.priorities,
        query.category is None or incident.category is query.category,
        query.service_id is None or query.service_id in incident.service_ids,
        query.label is None or query.label in incident.labels,
        not query.search or query.search.casefold() in incident.title.casefold(),
        not query.open_only or incident.is_open,
        query.declared_after is None or incident.declared_at >= query.declared_after,
        query.declared_before is None or incident.declared_at < query.declared_before,
        query.visibility is None or incident.visibility is query.visibility,
        query.sla_breached is None or incident.sla_breached is query.sla_breached,
        query.sla_due_before is None
        or (incident.sla_due_at is not None and incident.sla_due_at < query.sla_due_before),
        query.viewer is None or not incident.restricted or query.viewer in viewers(incident),
    )
    return all(checks)
