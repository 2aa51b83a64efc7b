"""Whether an incident matches a list filter: the in-memory twin of IncidentQuery.to_mongo."""

from __future__ import annotations

from incident_service.domain.incident import Incident
from incident_service.store.incidents import IncidentQuery


def matches(query: IncidentQuery, incident: Incident) -> bool:
    """Pure; must agree with the database filter so a list and a subscription agree."""
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
    )
    return all(checks)
