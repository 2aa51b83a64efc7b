"""The incident aggregate and the commands that change it.

Each command takes the current state and returns a `Change`: the new state
(version + 1) plus the timeline events it produced, with their `seq`
already assigned. Commands raise `DomainError` for expected failures.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from incident_service.domain import impacts, lifecycle, validation
from incident_service.domain.enums import (
    Impact,
    IncidentCategory,
    IncidentRole,
    IncidentStatus,
    LinkKind,
    Priority,
    PublicStatus,
    Urgency,
    UserErrorCode,
    Visibility,
)
from incident_service.domain.errors import DomainError
from incident_service.domain.errors import validation as validation_error
from incident_service.domain.impacts import ComponentImpact, ImpactSpec
from incident_service.domain.priority import priority_of

if TYPE_CHECKING:
    # domain/tasks.py holds the checklist's commands, which build on this module.
    from incident_service.domain.external_links import ExternalLink
    from incident_service.domain.tasks import Task


@dataclass(frozen=True)
class RoleAssignment:
    role: IncidentRole
    user: str
    assigned_at: datetime


@dataclass(frozen=True)
class IncidentLink:
    kind: LinkKind
    incident_id: str
    linked_at: datetime


@dataclass(frozen=True)
class Event:
    """One append-only timeline entry."""

    incident_id: str
    seq: int
    type: str
    at: datetime
    actor: str
    visibility: Visibility
    message: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    #: When what it records happened, if earlier than `at` (a note the scribe
    #: writes down after the fact).
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class Incident:
    id: str
    number: int
    title: str
    status: IncidentStatus
    category: IncidentCategory
    impact: Impact
    urgency: Urgency
    declared_at: datetime
    updated_at: datetime
    declared_by: str
    description: str | None = None
    visibility: Visibility = Visibility.INTERNAL
    service_ids: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    roles: tuple[RoleAssignment, ...] = ()
    links: tuple[IncidentLink, ...] = ()
    #: The playbook template it was declared from, if any.
    template_id: str | None = None
    #: Visible only to its participants and ADMIN (domain/restriction.py).
    restricted: bool = False
    #: Actor ids added to see a restricted incident (role holders and the declarer
    #: see it anyway).
    participants: tuple[str, ...] = ()
    #: The major incident this one belongs to (domain/major.py); its PARENT_OF links
    #: name the incidents a major incident gathers.
    parent_id: str | None = None
    #: The checklist, in order (domain/tasks.py); internal only.
    tasks: tuple[Task, ...] = ()
    #: Runbooks, tickets, dashboards, evidence (domain/external_links.py); internal only.
    external_links: tuple[ExternalLink, ...] = ()
    component_impacts: tuple[ComponentImpact, ...] = ()
    root_cause: str | None = None
    resolution: str | None = None
    impact_started_at: datetime | None = None
    detected_at: datetime | None = None
    acknowledged_at: datetime | None = None
    identified_at: datetime | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    #: Scoped to the declarer (domain/idempotency.py), with a digest of the declaration.
    idempotency_key: str | None = None
    idempotency_fingerprint: str | None = None
    #: `<integration id>:<group>` of an incident opened by monitoring: a group has at
    #: most one open incident (a unique partial index in the store).
    alert_group: str | None = None
    #: SLA marks written so far ("ACKNOWLEDGE:BREACHED", ...; see domain/sla.py).
    sla_marks: tuple[str, ...] = ()
    #: The next breach of a running SLA clock; kept by the store on every write.
    sla_due_at: datetime | None = None
    version: int = 1
    last_seq: int = 0

    @property
    def key(self) -> str:
        return f"INC-{self.number}"

    @property
    def priority(self) -> Priority:
        return priority_of(self.impact, self.urgency)

    @property
    def public_status(self) -> PublicStatus:
        return lifecycle.public_status(self.status)

    @property
    def is_open(self) -> bool:
        return lifecycle.is_open(self.status)

    @property
    def sla_breached(self) -> bool:
        return any(m.endswith(":BREACHED") for m in self.sla_marks)


@dataclass(frozen=True)
class Change:
    incident: Incident
    events: tuple[Event, ...]


class Recorder:
    """Collects events for one command, numbering them after the last seq."""

    def __init__(self, incident_id: str, last_seq: int, at: datetime, actor: str) -> None:
        self.incident_id, self.next_seq, self.at, self.actor = incident_id, last_seq, at, actor
        self.events: list[Event] = []

    def add(
        self,
        type_: str,
        message: str | None,
        visibility: Visibility = Visibility.INTERNAL,
        /,
        **data: Any,
    ) -> None:
        self.next_seq += 1
        self.events.append(
            Event(
                self.incident_id,
                self.next_seq,
                type_,
                self.at,
                self.actor,
                visibility,
                message,
                data,
            )
        )

    def commit(self, incident: Incident, *, bump: bool = True) -> Change:
        if not self.events:
            return Change(incident, ())
        changed = replace(
            incident,
            last_seq=self.next_seq,
            updated_at=self.at,
            version=incident.version + 1 if bump else incident.version,
        )
        return Change(changed, tuple(self.events))


def viewers(incident: Incident) -> tuple[str, ...]:
    """The actor ids that see the incident when it is restricted (ADMIN sees it anyway):
    the declarer, the participants and every role holder."""
    named = [incident.declared_by, *incident.participants, *(r.user for r in incident.roles)]
    return tuple(dict.fromkeys(named))


def followed_by(change: Change, command: Callable[[Incident], Change]) -> Change:
    """`change`, then `command` on its result, as one change (one write)."""
    more = command(change.incident)
    return Change(more.incident, (*change.events, *more.events))


def recorder(incident: Incident, now: datetime, actor: str) -> Recorder:
    """An event recorder for a command defined outside this module (alerts)."""
    return Recorder(incident.id, incident.last_seq, now, actor)


@dataclass(frozen=True)
class Declaration:
    title: str
    category: IncidentCategory = IncidentCategory.OTHER
    impact: Impact = Impact.MEDIUM
    urgency: Urgency = Urgency.MEDIUM
    description: str | None = None
    service_ids: Sequence[str] = ()
    labels: Sequence[str] = ()
    visibility: Visibility = Visibility.INTERNAL
    impact_started_at: datetime | None = None
    detected_at: datetime | None = None
    idempotency_key: str | None = None
    component_impacts: Sequence[ImpactSpec] = ()
    alert_group: str | None = None
    #: The playbook template it was declared from (domain/templates.py).
    template_id: str | None = None
    #: Visible only to its participants and ADMIN from the start.
    restricted: bool = False
    #: Set by the store when it scopes the key (domain/idempotency.py).
    idempotency_fingerprint: str | None = None


def declare(cmd: Declaration, *, id: str, number: int, now: datetime, actor: str) -> Change:
    title = validation.title(cmd.title)
    description = validation.text(cmd.description, "description")
    labels = validation.labels(list(cmd.labels))
    specs = impacts.check(cmd.component_impacts)
    _check_not_future(cmd.impact_started_at, now, "impactStartedAt")
    _check_not_future(cmd.detected_at, now, "detectedAt")
    if cmd.visibility is Visibility.PUBLIC:
        require_publishable(cmd.restricted, "visibility")
    incident = Incident(
        id=id,
        number=number,
        title=title,
        description=description,
        status=IncidentStatus.TRIGGERED,
        category=cmd.category,
        impact=cmd.impact,
        urgency=cmd.urgency,
        visibility=cmd.visibility,
        service_ids=_affected(cmd.service_ids, specs),
        labels=tuple(labels),
        component_impacts=impacts.start(specs, now),
        declared_at=now,
        updated_at=now,
        declared_by=actor,
        impact_started_at=cmd.impact_started_at,
        detected_at=cmd.detected_at or now,
        idempotency_key=cmd.idempotency_key,
        idempotency_fingerprint=cmd.idempotency_fingerprint,
        alert_group=cmd.alert_group,
        template_id=cmd.template_id,
        restricted=cmd.restricted,
        version=0,
    )
    rec = Recorder(id, 0, now, actor)
    rec.add(
        "DECLARED",
        f"Declared {incident.key}: {title} ({incident.priority.value})",
        status=incident.status.value,
        priority=incident.priority.value,
    )
    if specs:
        _record_impacts(rec, specs)
    return rec.commit(incident)


def _affected(service_ids: Sequence[str], specs: Sequence[ImpactSpec]) -> tuple[str, ...]:
    """Affected services: the ones named, then every impacted one (an impact affects it)."""
    return tuple(dict.fromkeys([*service_ids, *(s.service_id for s in specs)]))


def _record_impacts(rec: Recorder, specs: Sequence[ImpactSpec]) -> None:
    rec.add(
        "IMPACTS_CHANGED",
        impacts.describe(specs),
        impacts=[{"serviceId": s.service_id, "status": s.status.value} for s in specs],
    )


@dataclass(frozen=True)
class Update:
    """Fields to change; None means leave as is."""

    title: str | None = None
    description: str | None = None
    category: IncidentCategory | None = None
    impact: Impact | None = None
    urgency: Urgency | None = None
    service_ids: Sequence[str] | None = None
    labels: Sequence[str] | None = None
    impact_started_at: datetime | None = None
    #: The open impacts wanted from now on; None leaves them, [] ends them all.
    component_impacts: Sequence[ImpactSpec] | None = None


def update(incident: Incident, cmd: Update, *, now: datetime, actor: str) -> Change:
    require_not_closed(incident)
    changes: dict[str, Any] = {}
    if cmd.title is not None:
        changes["title"] = validation.title(cmd.title)
    if cmd.description is not None:
        changes["description"] = validation.text(cmd.description, "description")
    if cmd.category is not None:
        changes["category"] = cmd.category
    if cmd.impact is not None:
        changes["impact"] = cmd.impact
    if cmd.urgency is not None:
        changes["urgency"] = cmd.urgency
    if cmd.service_ids is not None:
        changes["service_ids"] = tuple(dict.fromkeys(cmd.service_ids))
    if cmd.labels is not None:
        changes["labels"] = tuple(validation.labels(list(cmd.labels)))
    if cmd.impact_started_at is not None:
        _check_not_future(cmd.impact_started_at, now, "impactStartedAt")
        changes["impact_started_at"] = cmd.impact_started_at
    specs: list[ImpactSpec] | None = None
    if cmd.component_impacts is not None:
        specs = impacts.check(cmd.component_impacts)
        if not incident.is_open and specs:
            raise DomainError(
                UserErrorCode.VALIDATION,
                f"{incident.key} is {incident.status.value}: reopen it to impact components",
                ("input", "componentImpacts"),
            )
        changes["service_ids"] = _affected(changes.get("service_ids", incident.service_ids), specs)
    diff = {k: v for k, v in changes.items() if getattr(incident, k) != v}
    new_impacts = (
        impacts.replace_active(incident.component_impacts, specs, now)
        if specs is not None
        else incident.component_impacts
    )
    impacts_moved = bool(impacts.changed_services(incident.component_impacts, new_impacts))
    if not diff and not impacts_moved:
        return Change(incident, ())
    new = replace(incident, **diff, component_impacts=new_impacts)
    rec = Recorder(incident.id, incident.last_seq, now, actor)
    if diff:
        rec.add(
            "UPDATED",
            "Updated " + ", ".join(field_name(k) for k in diff),
            fields={field_name(k): json_value(v) for k, v in diff.items()},
        )
    if impacts_moved and specs is not None:
        _record_impacts(rec, specs)
    if new.priority != incident.priority:
        rec.add(
            "PRIORITY_CHANGED",
            f"Priority changed from {incident.priority.value} to {new.priority.value}",
            **{"from": incident.priority.value, "to": new.priority.value},
        )
    return rec.commit(new)


def transition(
    incident: Incident,
    to: IncidentStatus,
    *,
    now: datetime,
    actor: str,
    note: str | None = None,
    resolution: str | None = None,
    public_update: str | None = None,
) -> Change:
    """Move to `to`. Resolving ends the component impacts; reopening resumes them.

    A `public_update` is posted as a PUBLIC update with the new public status
    (and publishes the incident), in the same change.
    """
    source = incident.status
    if not lifecycle.can_transition(source, to):
        allowed = ", ".join(sorted(s.value for s in lifecycle.TRANSITIONS[source])) or "none"
        raise DomainError(
            UserErrorCode.INVALID_TRANSITION,
            f"cannot move {incident.key} from {source.value} to {to.value} (allowed: {allowed})",
            ("input", "to"),
        )
    note = validation.text(note, "note")
    resolution = validation.text(resolution, "resolution")
    public_text = validation.text(public_update, "publicUpdate")
    if resolution is not None and to is not IncidentStatus.RESOLVED:
        raise DomainError(
            UserErrorCode.VALIDATION,
            "resolution can only be given when moving to RESOLVED",
            ("input", "resolution"),
        )
    stamps = _milestones(incident, to, now)
    new = replace(incident, status=to, **stamps)
    if resolution is not None:
        new = replace(new, resolution=resolution)
    rec = Recorder(incident.id, incident.last_seq, now, actor)
    rec.add(
        "STATUS_CHANGED",
        note or f"Status changed from {source.value} to {to.value}",
        **{"from": source.value, "to": to.value},
    )
    if resolution is not None:
        rec.add("RESOLUTION_SET", resolution)
    new = _impacts_follow_status(incident, new, rec, now)
    if not incident.is_open and new.is_open:
        # Reopened by a person: no longer the alert group's incident. The group may
        # already have a newer open one, and at most one per group may be open.
        new = replace(new, alert_group=None)
    if public_text is not None:
        new = _publish_update(new, rec, public_text, Visibility.PUBLIC, "publicUpdate")
    return rec.commit(new)


def _impacts_follow_status(
    before: Incident, after: Incident, rec: Recorder, now: datetime
) -> Incident:
    if before.is_open and not after.is_open:
        ended = impacts.end_all(after.component_impacts, now)
        if ended != after.component_impacts:
            rec.add("IMPACTS_ENDED", "Component impacts ended: the incident is resolved")
            return replace(after, component_impacts=ended)
    elif not before.is_open and after.is_open and before.resolved_at is not None:
        resumed = impacts.resume(after.component_impacts, before.resolved_at, now)
        if resumed != after.component_impacts:
            rec.add("IMPACTS_RESUMED", "Component impacts resumed: the incident is reopened")
            return replace(after, component_impacts=resumed)
    return after


_ORDER = list(IncidentStatus)
_WORKING = (
    IncidentStatus.ACKNOWLEDGED,
    IncidentStatus.INVESTIGATING,
    IncidentStatus.IDENTIFIED,
    IncidentStatus.MONITORING,
)


def _milestones(incident: Incident, to: IncidentStatus, now: datetime) -> dict[str, Any]:
    stamps: dict[str, Any] = {}
    if _ORDER.index(to) < _ORDER.index(incident.status):
        # A back edge: milestones past the new status no longer hold. The
        # timeline keeps the history; the fields say where the incident is now.
        for status, attr in lifecycle.MILESTONES.items():
            if _ORDER.index(status) > _ORDER.index(to) and getattr(incident, attr) is not None:
                stamps[attr] = None
    entered = lifecycle.MILESTONES.get(to)
    if entered and getattr(incident, entered) is None:
        stamps[entered] = now
    # Working on an incident means someone has acknowledged it; a self-clearing
    # alert (TRIGGERED -> RESOLVED) was never acknowledged.
    if to in _WORKING and incident.acknowledged_at is None:
        stamps["acknowledged_at"] = now
    return stamps


def add_note(
    incident: Incident,
    body: str,
    *,
    now: datetime,
    actor: str,
    occurred_at: datetime | None = None,
    backdate_window: timedelta = timedelta(hours=24),
) -> Change:
    """An internal note; `occurred_at` for something that happened before it was typed:
    not in the future, not earlier than the incident's detection minus `backdate_window`."""
    require_not_closed(incident)
    text = validation.text(body, "body", required=True)
    if occurred_at is not None:
        _check_not_future(occurred_at, now, "occurredAt")
        start = min(incident.detected_at or incident.declared_at, incident.declared_at)
        earliest = start - backdate_window
        if occurred_at < earliest:
            raise validation_error(
                "occurredAt",
                f"occurredAt must not be before {earliest.isoformat()} (the incident's "
                f"detection minus {backdate_window})",
            )
    rec = Recorder(incident.id, incident.last_seq, now, actor)
    rec.add("NOTE_ADDED", text)
    change = rec.commit(incident)
    if occurred_at is None:
        return change
    events = tuple(replace(e, occurred_at=occurred_at) for e in change.events)
    return Change(change.incident, events)


def post_update(
    incident: Incident, body: str, visibility: Visibility, *, now: datetime, actor: str
) -> Change:
    """A status update. A PUBLIC one also publishes the incident on the status page."""
    require_not_closed(incident)
    text = validation.required_text(body, "body")
    rec = Recorder(incident.id, incident.last_seq, now, actor)
    return rec.commit(_publish_update(incident, rec, text, visibility))


def _publish_update(
    incident: Incident,
    rec: Recorder,
    text: str,
    visibility: Visibility,
    field: str = "visibility",
) -> Incident:
    if visibility is Visibility.PUBLIC:
        require_publishable(incident.restricted, field)
    new = incident
    if visibility is Visibility.PUBLIC and incident.visibility is not Visibility.PUBLIC:
        new = replace(incident, visibility=Visibility.PUBLIC)
        rec.add("PUBLISHED", "Incident published on the status page")
    rec.add("UPDATE_POSTED", text, visibility, publicStatus=incident.public_status.value)
    return new


SINGLE_HOLDER_ROLES = frozenset(
    {IncidentRole.COMMANDER, IncidentRole.COMMUNICATIONS_LEAD, IncidentRole.SCRIBE}
)
#: Role assignments one incident holds at most (RESPONDER has any number of holders):
#: every read of the incident carries them, and a script must not grow it for ever.
ROLES_MAX = 100
#: Links one incident holds at most (a major incident gathers its children apart).
LINKS_MAX = 200


def assign_role(
    incident: Incident, role: IncidentRole, user: str, *, now: datetime, actor: str
) -> Change:
    require_not_closed(incident)
    user = validation.name(user, "user")
    if any(r.role is role and r.user == user for r in incident.roles):
        return Change(incident, ())
    kept = tuple(r for r in incident.roles if not (role in SINGLE_HOLDER_ROLES and r.role is role))
    if len(kept) >= ROLES_MAX:
        raise DomainError(
            UserErrorCode.VALIDATION,
            f"{incident.key} already has {ROLES_MAX} role assignments; unassign one first",
            ("input", "user"),
        )
    replaced = [r.user for r in incident.roles if r not in kept]
    new = replace(incident, roles=(*kept, RoleAssignment(role, user, now)))
    rec = Recorder(incident.id, incident.last_seq, now, actor)
    message = f"{user} is now {role.value}"
    if replaced:
        message += f" (replacing {', '.join(replaced)})"
    rec.add("ROLE_ASSIGNED", message, role=role.value, user=user)
    return rec.commit(new)


def unassign_role(
    incident: Incident, role: IncidentRole, user: str, *, now: datetime, actor: str
) -> Change:
    require_not_closed(incident)
    kept = tuple(r for r in incident.roles if not (r.role is role and r.user == user))
    if len(kept) == len(incident.roles):
        raise DomainError(
            UserErrorCode.NOT_FOUND, f"{user} does not hold {role.value}", ("input", "user")
        )
    rec = Recorder(incident.id, incident.last_seq, now, actor)
    rec.add("ROLE_UNASSIGNED", f"{user} is no longer {role.value}", role=role.value, user=user)
    return rec.commit(replace(incident, roles=kept))


def set_root_cause(incident: Incident, root_cause: str, *, now: datetime, actor: str) -> Change:
    require_not_closed(incident)
    text = validation.text(root_cause, "rootCause", required=True)
    if text == incident.root_cause:
        return Change(incident, ())
    rec = Recorder(incident.id, incident.last_seq, now, actor)
    rec.add("ROOT_CAUSE_SET", text)
    return rec.commit(replace(incident, root_cause=text))


def link(
    incident: Incident, other: Incident, kind: LinkKind, *, now: datetime, actor: str
) -> Change:
    require_not_closed(incident)
    if other.id == incident.id:
        raise DomainError(
            UserErrorCode.VALIDATION,
            "an incident cannot be linked to itself",
            ("input", "relatedId"),
        )
    if any(x.incident_id == other.id and x.kind is kind for x in incident.links):
        return Change(incident, ())
    if kind is LinkKind.DUPLICATE_OF and any(
        x.kind is LinkKind.DUPLICATE_OF for x in incident.links
    ):
        raise DomainError(
            UserErrorCode.VALIDATION,
            f"{incident.key} is already marked as a duplicate of another incident",
            ("input", "kind"),
        )
    if len(incident.links) >= LINKS_MAX:
        raise DomainError(
            UserErrorCode.VALIDATION,
            f"{incident.key} already has {LINKS_MAX} links",
            ("input", "relatedId"),
        )
    new = replace(incident, links=(*incident.links, IncidentLink(kind, other.id, now)))
    rec = Recorder(incident.id, incident.last_seq, now, actor)
    verb = "duplicate of" if kind is LinkKind.DUPLICATE_OF else "related to"
    rec.add(
        "INCIDENT_LINKED",
        f"Marked as {verb} {other.key}",
        kind=kind.value,
        incidentId=other.id,
        key=other.key,
    )
    return rec.commit(new)


def require_publishable(restricted: bool, field: str) -> None:
    """A restricted incident reaches the status page only once an ADMIN lifts the
    restriction: telling the public about a breach is a deliberate decision."""
    if restricted:
        raise DomainError(
            UserErrorCode.VALIDATION,
            "the incident is restricted: an ADMIN must lift the restriction before anything "
            "about it is public",
            ("input", field),
        )


def require_not_closed(incident: Incident) -> None:
    if incident.status is IncidentStatus.CLOSED:
        raise DomainError(
            UserErrorCode.INVALID_TRANSITION,
            f"{incident.key} is CLOSED and can no longer change",
            ("input", "id"),
        )


def _check_not_future(value: datetime | None, now: datetime, field: str) -> None:
    if value is not None and value > now:
        raise DomainError(
            UserErrorCode.VALIDATION, f"{field} cannot be in the future", ("input", field)
        )


def field_name(snake: str) -> str:
    """A field's name as clients and the database know it: camelCase."""
    head, *rest = snake.split("_")
    return head + "".join(p.title() for p in rest)


def json_value(value: Any) -> Any:
    """A value as event data holds it: JSON types only (clients read it as JSON)."""
    if isinstance(value, dict):
        return {k: json_value(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [json_value(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if hasattr(value, "value"):
        return value.value
    return value
