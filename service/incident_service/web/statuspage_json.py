"""The public status page in Atlassian Statuspage's API v2 shapes (pure: no I/O).

Widgets, aggregators and monitoring tools written for Statuspage's
`/api/v2/*.json` read these documents unchanged: same field names, same
values, timestamps as Statuspage writes them for a page in `Etc/UTC`. Every
document is built from the public `StatusPage` model only, so nothing
internal can reach it. docs/status-page-api.md has the field mapping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from incident_service.domain.enums import ComponentStatus, MaintenanceStatus
from incident_service.domain.service import overall_status
from incident_service.domain.status_page import (
    PublicComponent,
    PublicIncident,
    PublicMaintenance,
    StatusPage,
)
from incident_service.web.links import Site, short_id

Json = dict[str, Any]

#: Statuspage's incidents.json and scheduled-maintenances.json return the latest 50.
MAX_LISTED = 50
TIME_ZONE = "Etc/UTC"

#: Overall status -> Statuspage's page status indicator and its description.
INDICATORS: dict[ComponentStatus, tuple[str, str]] = {
    ComponentStatus.OPERATIONAL: ("none", "All Systems Operational"),
    ComponentStatus.DEGRADED_PERFORMANCE: ("minor", "Minor Service Outage"),
    ComponentStatus.PARTIAL_OUTAGE: ("major", "Partial System Outage"),
    ComponentStatus.MAJOR_OUTAGE: ("critical", "Major System Outage"),
    ComponentStatus.UNDER_MAINTENANCE: ("maintenance", "Service Under Maintenance"),
}

#: The worst component status an incident caused -> Statuspage's incident impact.
IMPACTS: dict[ComponentStatus, str] = {
    ComponentStatus.MAJOR_OUTAGE: "critical",
    ComponentStatus.PARTIAL_OUTAGE: "major",
    ComponentStatus.DEGRADED_PERFORMANCE: "minor",
}

#: Statuspage has no cancelled maintenance (a window is deleted there), so a
#: CANCELLED window is left out of every document, as a deleted one would be.
MAINTENANCE_STATUSES: dict[MaintenanceStatus, str] = {
    MaintenanceStatus.SCHEDULED: "scheduled",
    MaintenanceStatus.IN_PROGRESS: "in_progress",
    MaintenanceStatus.COMPLETED: "completed",
}


def timestamp(moment: datetime | None) -> str | None:
    """ISO-8601 with milliseconds and the UTC designator, as Statuspage writes `Etc/UTC` times."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.removesuffix("+00:00") + "Z"


def component_status(status: ComponentStatus) -> str:
    return status.value.lower()


def indicator(status: ComponentStatus) -> Json:
    value, description = INDICATORS[status]
    return {"indicator": value, "description": description}


def impact(worst: ComponentStatus | None) -> str:
    return IMPACTS.get(worst, "none") if worst is not None else "none"


def group_id(name: str) -> str:
    """A group has no id of its own here: one stable id per group name."""
    return short_id("group", name)


def page(site: Site, status_page: StatusPage) -> Json:
    return {
        "id": site.id,
        "name": site.name,
        "url": site.url,
        "time_zone": TIME_ZONE,
        "updated_at": timestamp(status_page.updated_at),
    }


# --- components ------------------------------------------------------------------------


def _component(site: Site, c: PublicComponent, position: int, group: str | None) -> Json:
    created_at = c.created_at or c.updated_at
    return {
        "id": c.id,
        "name": c.name,
        "status": component_status(c.status),
        "created_at": timestamp(created_at),
        "updated_at": timestamp(c.updated_at),
        "position": position,
        "description": c.description,
        # Every component shows its uptime on our page.
        "showcase": True,
        "start_date": created_at.date().isoformat(),
        "group_id": group,
        "page_id": site.id,
        "group": False,
        "only_show_if_degraded": False,
    }


def _group(site: Site, name: str, members: Sequence[PublicComponent], position: int) -> Json:
    created = min((m.created_at or m.updated_at for m in members), default=None)
    return {
        "id": group_id(name),
        "name": name,
        # A group shows the worst status of its components.
        "status": component_status(overall_status(m.status for m in members)),
        "created_at": timestamp(created),
        "updated_at": timestamp(max((m.updated_at for m in members), default=None)),
        "position": position,
        "description": None,
        "showcase": False,
        "start_date": None,
        "group_id": None,
        "page_id": site.id,
        "group": True,
        "only_show_if_degraded": False,
        "components": [m.id for m in members],
    }


def components(site: Site, listed: Iterable[PublicComponent]) -> list[Json]:
    """Components as Statuspage lists them: ungrouped ones, then each group followed by
    its members. Positions count from 1 among the top level and within each group."""
    ungrouped: list[PublicComponent] = []
    groups: dict[str, list[PublicComponent]] = {}
    for c in listed:
        if c.group:
            groups.setdefault(c.group, []).append(c)
        else:
            ungrouped.append(c)
    out = [_component(site, c, n, None) for n, c in enumerate(ungrouped, 1)]
    for n, (name, members) in enumerate(groups.items(), len(ungrouped) + 1):
        out.append(_group(site, name, members, n))
        gid = group_id(name)
        out += [_component(site, m, k, gid) for k, m in enumerate(members, 1)]
    return out


# --- incidents and maintenance -----------------------------------------------------------


def _update(update_id: str, incident_id: str, status: str, body: str, at: datetime) -> Json:
    return {
        "id": update_id,
        "status": status,
        "body": body,
        "incident_id": incident_id,
        "created_at": timestamp(at),
        "updated_at": timestamp(at),
        "display_at": timestamp(at),
        "affected_components": None,
        "deliver_notifications": False,
        "custom_tweet": None,
        "tweet_id": None,
    }


def _listed_components(listed: dict[str, Json], affected: Iterable[PublicComponent]) -> list[Json]:
    return [listed[c.id] for c in affected if c.id in listed]


def incident(site: Site, p: PublicIncident, listed: dict[str, Json]) -> Json:
    """`listed`: the page's components by id (as `components` renders them)."""
    return {
        "id": p.key,
        "name": p.title,
        # As Statuspage: an incident whose postmortem is published is `postmortem`.
        "status": "postmortem" if p.postmortem else p.public_status.value.lower(),
        "created_at": timestamp(p.declared_at),
        "updated_at": timestamp(p.updated_at),
        "monitoring_at": timestamp(p.monitoring_at),
        "resolved_at": timestamp(p.resolved_at),
        "impact": impact(p.worst_impact),
        "shortlink": site.incident_url(p.key),
        "started_at": timestamp(p.declared_at),
        "page_id": site.id,
        "incident_updates": [
            _update(u.id, p.key, u.public_status.value.lower(), u.body, u.at) for u in p.updates
        ],
        "components": _listed_components(listed, p.components),
    }


def update_ids(m: PublicMaintenance) -> list[str]:
    """Ids of a window's updates (newest first, as they are listed), numbered from the
    oldest: updates are append-only, so an update keeps its id."""
    count = len(m.updates)
    return [f"{m.id}-{count - n}" for n in range(count)]


def maintenance(site: Site, m: PublicMaintenance, listed: dict[str, Json]) -> Json | None:
    """A window as a Statuspage scheduled maintenance; None for a CANCELLED one."""
    status = MAINTENANCE_STATUSES.get(m.status)
    if status is None:
        return None
    created = m.updates[-1].at if m.updates else m.updated_at
    completed = [u.at for u in m.updates if u.status is MaintenanceStatus.COMPLETED]
    return {
        "id": m.id,
        "name": m.title,
        "status": status,
        "created_at": timestamp(created),
        "updated_at": timestamp(m.updated_at),
        "monitoring_at": None,
        "resolved_at": timestamp(completed[0] if completed else None),
        "impact": "maintenance",
        # Windows have no page of their own: the status page shows them.
        "shortlink": site.url,
        "started_at": timestamp(created),
        "page_id": site.id,
        "incident_updates": [
            _update(update_id, m.id, MAINTENANCE_STATUSES.get(u.status, status), u.body, u.at)
            for update_id, u in zip(update_ids(m), m.updates, strict=True)
        ],
        "components": _listed_components(listed, m.components),
        "scheduled_for": timestamp(m.starts_at),
        "scheduled_until": timestamp(m.ends_at),
    }


# --- documents -----------------------------------------------------------------------


class _Render:
    """One document's inputs: the site, the page and its components rendered once."""

    def __init__(self, site: Site, status_page: StatusPage) -> None:
        self.site = site
        self.status_page = status_page
        self.components = components(site, status_page.components)
        self.by_id = {c["id"]: c for c in self.components if not c["group"]}

    def envelope(self, **fields: Any) -> Json:
        return {"page": page(self.site, self.status_page), **fields}

    def incidents(self, shown: Iterable[PublicIncident]) -> list[Json]:
        return [incident(self.site, p, self.by_id) for p in shown]

    def maintenances(self, shown: Iterable[PublicMaintenance]) -> list[Json]:
        rendered = (maintenance(self.site, m, self.by_id) for m in shown)
        return [m for m in rendered if m is not None]


def _all_incidents(sp: StatusPage) -> list[PublicIncident]:
    """Unresolved and recently resolved, newest first, at most MAX_LISTED."""
    merged = sorted(
        (*sp.active_incidents, *sp.recent_incidents), key=lambda p: p.declared_at, reverse=True
    )
    return merged[:MAX_LISTED]


def _all_maintenances(sp: StatusPage) -> list[PublicMaintenance]:
    """Upcoming, in progress and recently completed windows, latest start first."""
    merged = sorted(
        (m for m in (*sp.maintenances, *sp.past_maintenances) if m.status in MAINTENANCE_STATUSES),
        key=lambda m: m.starts_at,
        reverse=True,
    )
    return merged[:MAX_LISTED]


def _in(sp: StatusPage, status: MaintenanceStatus) -> list[PublicMaintenance]:
    return [m for m in sp.maintenances if m.status is status]


def summary(site: Site, sp: StatusPage) -> Json:
    r = _Render(site, sp)
    return {
        "page": page(site, sp),
        "components": r.components,
        "incidents": r.incidents(sp.active_incidents),
        "scheduled_maintenances": r.maintenances(sp.maintenances),
        "status": indicator(sp.overall_status),
    }


def status(site: Site, sp: StatusPage) -> Json:
    return {"page": page(site, sp), "status": indicator(sp.overall_status)}


def components_document(site: Site, sp: StatusPage) -> Json:
    return {"page": page(site, sp), "components": components(site, sp.components)}


def incidents_document(site: Site, sp: StatusPage) -> Json:
    r = _Render(site, sp)
    return r.envelope(incidents=r.incidents(_all_incidents(sp)))


def unresolved_document(site: Site, sp: StatusPage) -> Json:
    r = _Render(site, sp)
    return r.envelope(incidents=r.incidents(sp.active_incidents))


def maintenances_document(site: Site, sp: StatusPage) -> Json:
    r = _Render(site, sp)
    return r.envelope(scheduled_maintenances=r.maintenances(_all_maintenances(sp)))


def upcoming_document(site: Site, sp: StatusPage) -> Json:
    r = _Render(site, sp)
    return r.envelope(scheduled_maintenances=r.maintenances(_in(sp, MaintenanceStatus.SCHEDULED)))


def active_document(site: Site, sp: StatusPage) -> Json:
    r = _Render(site, sp)
    return r.envelope(scheduled_maintenances=r.maintenances(_in(sp, MaintenanceStatus.IN_PROGRESS)))


#: Path below /api/v2 -> the document served there.
DOCUMENTS: dict[str, Callable[[Site, StatusPage], Json]] = {
    "summary.json": summary,
    "status.json": status,
    "components.json": components_document,
    "incidents.json": incidents_document,
    "incidents/unresolved.json": unresolved_document,
    "scheduled-maintenances.json": maintenances_document,
    "scheduled-maintenances/upcoming.json": upcoming_document,
    "scheduled-maintenances/active.json": active_document,
}
