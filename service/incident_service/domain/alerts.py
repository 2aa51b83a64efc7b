"""Alerts from monitoring: the signal as received, the alert it folds into, and what it
does to an incident. No I/O; the store runs these inside its transactions.

One open alert per (integration, dedup key): repeats raise `count` and
`lastSeenAt` and record nothing on the timeline. An alert belongs to a group
(Alertmanager's `groupKey`, else its own dedup key); a group has at most one
open incident, which every new alert of the group joins.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from incident_service.domain import impacts
from incident_service.domain import incident as incidents
from incident_service.domain.enums import (
    AlertAction,
    AlertStatus,
    ComponentStatus,
    Impact,
    IncidentStatus,
    LinkKind,
    Severity,
    Urgency,
)
from incident_service.domain.errors import validation
from incident_service.domain.impacts import ImpactSpec
from incident_service.domain.incident import Change, Declaration, Incident
from incident_service.domain.integrations import Integration, service_ids

#: Bounds on what a sender may make us store; labels and details are kept as
#: given (never interpreted as queries), within these.
MAX_LABELS = 64
MAX_KEY = 128
MAX_VALUE = 1024
MAX_DETAILS_BYTES = 16_384
MAX_DEDUP_KEY = 255
MAX_SUMMARY = 1024
MAX_SOURCE = 255

SEVERITY_PRIORITY: dict[Severity, tuple[Impact, Urgency]] = {
    Severity.CRITICAL: (Impact.HIGH, Urgency.HIGH),
    Severity.ERROR: (Impact.HIGH, Urgency.MEDIUM),
    Severity.WARNING: (Impact.MEDIUM, Urgency.MEDIUM),
    Severity.INFO: (Impact.LOW, Urgency.LOW),
}
#: What an alert does to the component it names; INFO impacts nothing.
SEVERITY_IMPACT: dict[Severity, ComponentStatus] = {
    Severity.CRITICAL: ComponentStatus.MAJOR_OUTAGE,
    Severity.ERROR: ComponentStatus.PARTIAL_OUTAGE,
    Severity.WARNING: ComponentStatus.DEGRADED_PERFORMANCE,
}

ALERT_TRIGGERED = "ALERT_TRIGGERED"
ALERT_RESOLVED = "ALERT_RESOLVED"
ALERT_ACKNOWLEDGED = "ALERT_ACKNOWLEDGED"


@dataclass(frozen=True)
class Signal:
    """One alert event as a sender reported it, whichever of the three ways it came in."""

    action: AlertAction
    dedup_key: str
    summary: str = ""
    source: str = ""
    severity: Severity = Severity.WARNING
    component: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    details: Mapping[str, Any] = field(default_factory=dict)
    occurred_at: datetime | None = None
    group_key: str | None = None

    @property
    def group(self) -> str:
        return self.group_key or self.dedup_key

    @property
    def service_name(self) -> str | None:
        """The service the alert names: its `component`, else its `service` label."""
        return self.component or self.labels.get("service") or self.labels.get("component")


@dataclass(frozen=True)
class Alert:
    id: str
    integration_id: str
    dedup_key: str
    group: str
    status: AlertStatus
    summary: str
    source: str
    severity: Severity
    first_seen_at: datetime
    last_seen_at: datetime
    labels: Mapping[str, str] = field(default_factory=dict)
    details: Mapping[str, Any] = field(default_factory=dict)
    component: str | None = None
    count: int = 1
    resolved_at: datetime | None = None
    incident_id: str | None = None
    suppressed: bool = False

    @property
    def open(self) -> bool:
        return self.status is not AlertStatus.RESOLVED


def payload_dedup_key(parts: Mapping[str, Any]) -> str:
    """A stable key for a trigger sent without one (PagerDuty does the same)."""
    canonical = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def check_labels(labels: Mapping[str, Any], field_: str = "labels") -> dict[str, str]:
    if len(labels) > MAX_LABELS:
        raise validation(field_, f"at most {MAX_LABELS} labels are allowed (got {len(labels)})")
    checked: dict[str, str] = {}
    for key, value in labels.items():
        if not isinstance(key, str) or not 0 < len(key) <= MAX_KEY:
            raise validation(field_, f"each label name must be 1..{MAX_KEY} characters")
        if not isinstance(value, str) or len(value) > MAX_VALUE:
            raise validation(
                field_, f"label {key[:40]!r} must be a string of at most {MAX_VALUE} characters"
            )
        _check_encodable(key, field_)
        _check_encodable(value, field_)
        checked[key] = value
    return checked


def check_details(details: Mapping[str, Any], field_: str = "details") -> dict[str, Any]:
    try:
        size = len(json.dumps(details, default=str).encode("utf-8", "surrogatepass"))
    except (TypeError, ValueError):
        raise validation(field_, f"{field_} must be a JSON object") from None
    if size > MAX_DETAILS_BYTES:
        raise validation(field_, f"{field_} must be at most {MAX_DETAILS_BYTES} bytes as JSON")
    # Dots and dollar signs in keys mean something to MongoDB: keep the object
    # as one opaque JSON string so no key is ever read as an operator or path.
    return {"json": json.dumps(details, default=str, sort_keys=True)}


def _check_encodable(text: str, field_: str) -> None:
    """Refuse text that cannot be stored: a lone surrogate (e.g. JSON "\\ud800") is valid
    in a Python string but not in UTF-8, and would fail at the database instead."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise validation(field_, f"{field_} is not valid Unicode text") from None


def check_signal(signal: Signal) -> Signal:
    """The signal within bounds, or a validation error naming the field."""
    for text, field_ in (
        (signal.dedup_key, "dedupKey"),
        (signal.summary, "summary"),
        (signal.source, "source"),
        (signal.component or "", "component"),
        (signal.group_key or "", "groupKey"),
    ):
        _check_encodable(text, field_)
    key = signal.dedup_key.strip()
    if not key or len(key) > MAX_DEDUP_KEY:
        raise validation("dedupKey", f"dedupKey must be 1..{MAX_DEDUP_KEY} characters")
    if signal.action is AlertAction.TRIGGER:
        if not signal.summary.strip():
            raise validation("summary", "summary is required for a trigger")
        if not signal.source.strip():
            raise validation("source", "source is required for a trigger")
    if len(signal.summary) > MAX_SUMMARY:
        raise validation("summary", f"summary must be at most {MAX_SUMMARY} characters")
    if len(signal.source) > MAX_SOURCE:
        raise validation("source", f"source must be at most {MAX_SOURCE} characters")
    if signal.component is not None and len(signal.component) > MAX_VALUE:
        raise validation("component", f"component must be at most {MAX_VALUE} characters")
    if signal.group_key is not None and len(signal.group_key) > MAX_VALUE:
        raise validation("groupKey", f"groupKey must be at most {MAX_VALUE} characters")
    check_labels(signal.labels)
    check_details(signal.details)
    return replace(signal, dedup_key=key, summary=signal.summary.strip())


def new_alert(signal: Signal, integration: Integration, *, alert_id: str, now: datetime) -> Alert:
    seen = detected_at(signal, now)
    return Alert(
        id=alert_id,
        integration_id=integration.id,
        dedup_key=signal.dedup_key,
        group=signal.group,
        status=AlertStatus.TRIGGERED,
        summary=signal.summary,
        source=signal.source,
        severity=signal.severity,
        labels=dict(signal.labels),
        details=dict(signal.details),
        component=signal.service_name,
        first_seen_at=seen,
        last_seen_at=now,
    )


def detected_at(signal: Signal, now: datetime) -> datetime:
    """When monitoring saw it: the sender's time, never later than now (clocks drift)."""
    if signal.occurred_at is None:
        return now
    return min(signal.occurred_at, now)


def priority(severity: Severity, integration: Integration) -> tuple[Impact, Urgency]:
    impact, urgency = SEVERITY_PRIORITY[severity]
    d = integration.defaults
    return d.impact or impact, d.urgency or urgency


def impact_spec(severity: Severity, service_id: str | None, name: str) -> list[ImpactSpec]:
    status = SEVERITY_IMPACT.get(severity)
    if service_id is None or status is None:
        return []
    return [ImpactSpec(service_id, status, name)]


def declaration(alert: Alert, integration: Integration, service_id: str | None) -> Declaration:
    """The incident a first alert of a group opens."""
    impact, urgency = priority(alert.severity, integration)
    return Declaration(
        title=alert.summary[:200],
        description=f"Raised by {integration.name} from {alert.source}",
        category=integration.defaults.category,
        impact=impact,
        urgency=urgency,
        service_ids=service_ids(integration.defaults, [service_id] if service_id else []),
        labels=integration.defaults.labels,
        detected_at=alert.first_seen_at,
        component_impacts=impact_spec(alert.severity, service_id, alert.component or ""),
        alert_group=f"{integration.id}:{alert.group}",
    )


def open_incident(
    alert: Alert,
    decl: Declaration,
    previous: Incident | None,
    *,
    incident_id: str,
    number: int,
    now: datetime,
    actor: str,
) -> Change:
    """Declare the group's incident, link it RELATED to the group's previous one, and
    record the alert that opened it."""
    change = incidents.declare(decl, id=incident_id, number=number, now=now, actor=actor)
    if previous is not None:
        change = _then(
            change,
            incidents.link(change.incident, previous, LinkKind.RELATED, now=now, actor=actor),
        )
    return _then(change, triggered(change.incident, alert, None, now=now, actor=actor))


def triggered(
    incident: Incident, alert: Alert, service_id: str | None, *, now: datetime, actor: str
) -> Change:
    """A new alert joins the incident: one event, its service attached, its component
    impacted (an impact already held is kept), detection moved earlier."""
    new = incident
    if service_id is not None and service_id not in incident.service_ids:
        new = replace(new, service_ids=(*new.service_ids, service_id))
    if new.detected_at is None or alert.first_seen_at < new.detected_at:
        new = replace(new, detected_at=alert.first_seen_at)
    rec = incidents.recorder(incident, now, actor)
    rec.add(
        ALERT_TRIGGERED,
        f"Alert triggered: {alert.summary[:200]} ({alert.severity.value})",
        alertId=alert.id,
        dedupKey=alert.dedup_key,
        severity=alert.severity.value,
    )
    change = rec.commit(new)
    held = impacts.active(new.component_impacts)
    wanted = impact_spec(alert.severity, service_id, alert.component or "")
    if not wanted or wanted[0].service_id in held or not new.is_open:
        return change
    specs = [ImpactSpec(sid, status) for sid, status in held.items()] + wanted
    return _then(
        change,
        incidents.update(
            change.incident, incidents.Update(component_impacts=specs), now=now, actor=actor
        ),
    )


def acknowledged(incident: Incident, alert: Alert, *, now: datetime, actor: str) -> Change:
    """An acknowledge moves a TRIGGERED incident to ACKNOWLEDGED; otherwise it is noted."""
    if incident.status is IncidentStatus.TRIGGERED:
        return incidents.transition(
            incident,
            IncidentStatus.ACKNOWLEDGED,
            now=now,
            actor=actor,
            note=f"Alert acknowledged: {alert.summary[:200]}",
        )
    rec = incidents.recorder(incident, now, actor)
    rec.add(ALERT_ACKNOWLEDGED, f"Alert acknowledged: {alert.summary[:200]}", alertId=alert.id)
    return rec.commit(incident)


#: Statuses an integration may still resolve by itself: once a person moved the
#: incident past ACKNOWLEDGED, people keep control of it.
AUTO_RESOLVABLE = (IncidentStatus.TRIGGERED, IncidentStatus.ACKNOWLEDGED)


def resolved(
    incident: Incident,
    alert: Alert,
    still_open: int,
    integration: Integration,
    *,
    now: datetime,
    actor: str,
) -> Change:
    """The alert's resolution on the timeline; the incident resolves with its last alert
    when the integration auto-resolves and nobody moved it past ACKNOWLEDGED."""
    rec = incidents.recorder(incident, now, actor)
    rec.add(ALERT_RESOLVED, f"Alert resolved: {alert.summary[:200]}", alertId=alert.id)
    change = rec.commit(incident)
    if still_open == 0 and integration.auto_resolve and incident.status in AUTO_RESOLVABLE:
        change = _then(
            change,
            incidents.transition(
                change.incident,
                IncidentStatus.RESOLVED,
                now=now,
                actor=actor,
                note="Resolved automatically: every alert of the incident has resolved",
            ),
        )
    return change


def _then(first: Change, second: Change) -> Change:
    """Two commands as one change: the events of both, one version step."""
    if not second.events:
        return first
    incident = replace(second.incident, version=first.incident.version)
    return Change(incident, (*first.events, *second.events))
