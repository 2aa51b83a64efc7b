"""What a change tells the outside world: the outbound messages of incidents, components,
maintenance and alerts. No I/O.

A `Message` is written to the outbox in the transaction of the change that
caused it and delivered later to every webhook endpoint (and, if it has a
`public` part, to every email subscriber) that wants it. Its `data` is the
webhook payload, internal fields included (endpoints are configured by
ADMINs); `public` is the only part an email to an anonymous subscriber is
ever built from, and holds nothing a visitor of the status page could not
read there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from incident_service.domain.enums import IncidentStatus, Visibility
from incident_service.domain.incident import Change, Event, Incident, field_name
from incident_service.domain.maintenance import Maintenance
from incident_service.domain.postmortem import PUBLIC_FIELDS, TEXT_FIELDS, Postmortem, root_cause_of
from incident_service.domain.service import Service

INCIDENT_DECLARED = "incident.declared"
INCIDENT_STATUS_CHANGED = "incident.status_changed"
INCIDENT_UPDATED = "incident.updated"
INCIDENT_UPDATE_POSTED = "incident.update_posted"
INCIDENT_RESOLVED = "incident.resolved"
INCIDENT_SLA_AT_RISK = "incident.sla_at_risk"
INCIDENT_SLA_BREACHED = "incident.sla_breached"
COMPONENT_STATUS_CHANGED = "component.status_changed"
MAINTENANCE_SCHEDULED = "maintenance.scheduled"
MAINTENANCE_UPDATED = "maintenance.updated"
MAINTENANCE_STARTED = "maintenance.started"
MAINTENANCE_COMPLETED = "maintenance.completed"
MAINTENANCE_CANCELLED = "maintenance.cancelled"
ALERT_TRIGGERED = "alert.triggered"
ALERT_ACKNOWLEDGED = "alert.acknowledged"
ALERT_RESOLVED = "alert.resolved"
POSTMORTEM_PUBLISHED = "postmortem.published"
#: Sent only by `sendTestWebhook`, to the one endpoint asked for.
WEBHOOK_TEST = "webhook.test"

#: The event types an endpoint may subscribe to.
EVENT_TYPES: tuple[str, ...] = (
    INCIDENT_DECLARED,
    INCIDENT_STATUS_CHANGED,
    INCIDENT_UPDATED,
    INCIDENT_UPDATE_POSTED,
    INCIDENT_RESOLVED,
    INCIDENT_SLA_AT_RISK,
    INCIDENT_SLA_BREACHED,
    COMPONENT_STATUS_CHANGED,
    MAINTENANCE_SCHEDULED,
    MAINTENANCE_UPDATED,
    MAINTENANCE_STARTED,
    MAINTENANCE_COMPLETED,
    MAINTENANCE_CANCELLED,
    ALERT_TRIGGERED,
    ALERT_ACKNOWLEDGED,
    ALERT_RESOLVED,
    POSTMORTEM_PUBLISHED,
)

#: Timeline events that make an `incident.updated`: what a responder or a ticketing
#: tool would want to mirror. Notes are the team's scratchpad and are not sent.
_UPDATED_BY = frozenset(
    {
        "UPDATED",
        "PRIORITY_CHANGED",
        "IMPACTS_CHANGED",
        "IMPACTS_ENDED",
        "IMPACTS_RESUMED",
        "ROLE_ASSIGNED",
        "ROLE_UNASSIGNED",
        "ROOT_CAUSE_SET",
        "RESOLUTION_SET",
        "INCIDENT_LINKED",
        "PUBLISHED",
    }
)
_SLA_TYPES = {"SLA_AT_RISK": INCIDENT_SLA_AT_RISK, "SLA_BREACHED": INCIDENT_SLA_BREACHED}
_ALERT_TYPES = {
    "ALERT_TRIGGERED": ALERT_TRIGGERED,
    "ALERT_ACKNOWLEDGED": ALERT_ACKNOWLEDGED,
    "ALERT_RESOLVED": ALERT_RESOLVED,
}
_MAINTENANCE_TYPES = {
    "MAINTENANCE_SCHEDULED": MAINTENANCE_SCHEDULED,
    "MAINTENANCE_UPDATED": MAINTENANCE_UPDATED,
    "MAINTENANCE_UPDATE_POSTED": MAINTENANCE_UPDATED,
    "MAINTENANCE_STARTED": MAINTENANCE_STARTED,
    "MAINTENANCE_COMPLETED": MAINTENANCE_COMPLETED,
    "MAINTENANCE_CANCELLED": MAINTENANCE_CANCELLED,
}


@dataclass(frozen=True)
class Message:
    """One thing that happened, as receivers are told it."""

    type: str
    at: datetime
    #: The webhook payload's `data` (JSON values only).
    data: dict[str, Any]
    #: The components it concerns; an endpoint limited to some components gets it
    #: when they overlap (a message about no component reaches every endpoint).
    service_ids: tuple[str, ...] = ()
    #: What an email subscriber may read; None: not for subscribers.
    public: dict[str, Any] | None = field(default=None)


def iso(at: datetime | None) -> str | None:
    return at.isoformat().replace("+00:00", "Z") if at is not None else None


def incident_data(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.id,
        "key": incident.key,
        "title": incident.title,
        "status": incident.status.value,
        "publicStatus": incident.public_status.value,
        "priority": incident.priority.value,
        "impact": incident.impact.value,
        "urgency": incident.urgency.value,
        "category": incident.category.value,
        "visibility": incident.visibility.value,
        "serviceIds": list(incident.service_ids),
        "labels": list(incident.labels),
        "declaredAt": iso(incident.declared_at),
        "updatedAt": iso(incident.updated_at),
        "resolvedAt": iso(incident.resolved_at),
        "version": incident.version,
    }


def _event_data(event: Event) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "type": event.type,
        "actor": event.actor,
        "message": event.message,
        "visibility": event.visibility.value,
        "data": event.data,
    }


def for_incident(change: Change) -> list[Message]:
    """The messages of one incident change, in the order things happened."""
    incident = change.incident
    base = incident_data(incident)
    ids = incident.service_ids
    messages: list[Message] = []
    updated: list[Event] = []
    for event in change.events:
        if event.type == "DECLARED":
            messages.append(Message(INCIDENT_DECLARED, event.at, {"incident": base}, ids))
        elif event.type == "STATUS_CHANGED":
            moved = {"incident": base, "from": event.data["from"], "to": event.data["to"]}
            messages.append(Message(INCIDENT_STATUS_CHANGED, event.at, moved, ids))
            if event.data["to"] == IncidentStatus.RESOLVED.value:
                messages.append(Message(INCIDENT_RESOLVED, event.at, {"incident": base}, ids))
        elif event.type == "UPDATE_POSTED":
            messages.append(_update_posted(incident, event))
        elif event.type in _SLA_TYPES:
            data = {"incident": base, **{k: event.data.get(k) for k in ("target", "dueAt")}}
            messages.append(Message(_SLA_TYPES[event.type], event.at, data, ids))
        elif event.type in _ALERT_TYPES:
            alert = {"incident": base, "alertId": event.data.get("alertId"), "event": None}
            alert["event"] = _event_data(event)
            messages.append(Message(_ALERT_TYPES[event.type], event.at, alert, ids))
        elif event.type in _UPDATED_BY:
            updated.append(event)
    if updated:
        data = {"incident": base, "changes": [_event_data(e) for e in updated]}
        messages.append(Message(INCIDENT_UPDATED, updated[0].at, data, ids))
    return messages


def _update_posted(incident: Incident, event: Event) -> Message:
    update = {
        "body": event.message,
        "visibility": event.visibility.value,
        "publicStatus": event.data.get("publicStatus", incident.public_status.value),
        "postedBy": event.actor,
        "at": iso(event.at),
    }
    data = {"incident": incident_data(incident), "update": update}
    public = None
    if event.visibility is Visibility.PUBLIC and incident.visibility is Visibility.PUBLIC:
        public = {
            "kind": "incident",
            "key": incident.key,
            "title": incident.title,
            "publicStatus": update["publicStatus"],
            "body": event.message,
            "at": iso(event.at),
        }
    return Message(INCIDENT_UPDATE_POSTED, event.at, data, incident.service_ids, public)


def for_postmortem(incident: Incident, postmortem: Postmortem) -> Message:
    """A postmortem published (or its `public` flag changed on a published one)."""
    texts = {field_name(k): getattr(postmortem, k) for k in TEXT_FIELDS}
    texts["rootCause"] = root_cause_of(postmortem, incident)
    data = {
        "incident": incident_data(incident),
        "postmortem": {
            **texts,
            "status": postmortem.status.value,
            "public": postmortem.public,
            "contributingFactors": list(postmortem.contributing_factors),
            "author": postmortem.author,
            "reviewers": list(postmortem.reviewers),
            "publishedAt": iso(postmortem.published_at),
            "version": postmortem.version,
        },
    }
    public = None
    if postmortem.public and incident.visibility is Visibility.PUBLIC:
        public = {
            "kind": "postmortem",
            "key": incident.key,
            "title": incident.title,
            **{field_name(k): getattr(postmortem, k) for k in PUBLIC_FIELDS},
            "at": iso(postmortem.published_at),
        }
    return Message(POSTMORTEM_PUBLISHED, postmortem.updated_at, data, incident.service_ids, public)


def for_component(service: Service, previous: Service) -> Message:
    """An effective status change of a component (whatever caused it)."""
    data = {
        "component": {
            "id": service.id,
            "name": service.name,
            "status": service.status.value,
            "previousStatus": previous.status.value,
            "reason": service.status_reason,
            "public": service.public,
            "group": service.group,
        }
    }
    public = None
    if service.public and service.status is not previous.status:
        public = {
            "kind": "component",
            "name": service.name,
            "status": service.status.value,
            "previousStatus": previous.status.value,
            "at": iso(service.updated_at),
        }
    return Message(COMPONENT_STATUS_CHANGED, service.updated_at, data, (service.id,), public)


def for_maintenance(window: Maintenance, event: str) -> Message | None:
    type_ = _MAINTENANCE_TYPES.get(event)
    if type_ is None:
        return None
    body = window.updates[-1].body if window.updates else None
    data = {
        "maintenance": {
            "id": window.id,
            "title": window.title,
            "description": window.description,
            "status": window.status.value,
            "published": window.published,
            "serviceIds": list(window.service_ids),
            "startsAt": iso(window.starts_at),
            "endsAt": iso(window.ends_at),
            "startedAt": iso(window.started_at),
            "endedAt": iso(window.ended_at),
            "latestUpdate": body,
        }
    }
    public = None
    if window.published:
        public = {
            "kind": "maintenance",
            "title": window.title,
            "description": window.description,
            "status": window.status.value,
            "startsAt": iso(window.starts_at),
            "endsAt": iso(window.ends_at),
            "body": body,
            "at": iso(window.updated_at),
        }
    return Message(type_, window.updated_at, data, window.service_ids, public)


def wanted(event_types: Iterable[str], service_ids: Iterable[str], message: Message) -> bool:
    """Whether an endpoint (or subscriber) with these filters gets the message."""
    if message.type not in set(event_types):
        return False
    chosen = set(service_ids)
    return not chosen or not message.service_ids or bool(chosen & set(message.service_ids))
