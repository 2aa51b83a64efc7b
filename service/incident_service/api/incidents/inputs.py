"""GraphQL inputs of incident queries and mutations, and their domain translation."""

from __future__ import annotations

from datetime import datetime

import strawberry

from incident_service.api.common import (
    ComponentStatus,
    Impact,
    IncidentCategory,
    IncidentRole,
    IncidentStatus,
    LinkKind,
    Priority,
    Urgency,
    Visibility,
)
from incident_service.domain import enums, validation
from incident_service.domain.errors import validation as invalid
from incident_service.domain.impacts import ImpactSpec
from incident_service.domain.incident import Declaration, Update
from incident_service.domain.query import IncidentQuery
from incident_service.domain.templates import Given


@strawberry.input(description="Filter for the incident list; all given conditions must hold.")
class IncidentFilter:
    status: list[IncidentStatus] | None = strawberry.field(
        default=None, description="Any of these statuses."
    )
    priority: list[Priority] | None = strawberry.field(
        default=None, description="Any of these priorities."
    )
    category: IncidentCategory | None = strawberry.field(default=None, description="This category.")
    service_id: strawberry.ID | None = strawberry.field(
        default=None, description="Affecting this service."
    )
    label: str | None = strawberry.field(default=None, description="Carrying this label.")
    search: str | None = strawberry.field(
        default=None, description="Case-insensitive text the title contains (matched literally)."
    )
    open_only: bool = strawberry.field(
        default=False, description="Only incidents not yet RESOLVED or CLOSED."
    )
    declared_after: datetime | None = strawberry.field(
        default=None, description="Declared at or after this time."
    )
    declared_before: datetime | None = strawberry.field(
        default=None, description="Declared before this time."
    )
    sla_breached: bool | None = strawberry.field(
        default=None,
        description="true: incidents that breached an SLA target (acknowledge or resolve, "
        "an SLA_BREACHED event on their timeline); false: those that did not.",
    )
    sla_due_before: datetime | None = strawberry.field(
        default=None,
        description='The "about to breach" view: open incidents whose next SLA breach '
        "(of a clock still running) falls before this time.",
    )

    def to_query(self) -> IncidentQuery:
        return IncidentQuery(
            statuses=tuple(self.status or ()),
            priorities=tuple(self.priority or ()),
            category=self.category,
            service_id=(
                validation.object_id(self.service_id, "serviceId") if self.service_id else None
            ),
            label=validation.label(self.label) if self.label is not None else None,
            search=validation.search(self.search) if self.search is not None else None,
            open_only=self.open_only,
            declared_after=self.declared_after,
            declared_before=self.declared_before,
            sla_breached=self.sla_breached,
            sla_due_before=self.sla_due_before,
        )


@strawberry.input(description="What an incident does to one component (service).")
class ComponentImpactInput:
    service_id: strawberry.ID = strawberry.field(
        description="The component; internal ones may be impacted (they show internally only)."
    )
    status: ComponentStatus = strawberry.field(
        description="DEGRADED_PERFORMANCE, PARTIAL_OUTAGE or MAJOR_OUTAGE."
    )

    def to_domain(self) -> ImpactSpec:
        return ImpactSpec(validation.object_id(self.service_id, "componentImpacts"), self.status)


def impact_specs(impacts: list[ComponentImpactInput] | None) -> list[ImpactSpec] | None:
    return None if impacts is None else [i.to_domain() for i in impacts]


@strawberry.input(description="Declare a new incident; it starts TRIGGERED.")
class DeclareIncidentInput:
    title: str = strawberry.field(description="Short summary, 1..200 characters.")
    description: str | None = strawberry.field(default=None, description="Up to 20,000 characters.")
    category: IncidentCategory | None = strawberry.field(
        default=None, description="Kind of incident. Omitted: the template's, else OTHER."
    )
    impact: Impact | None = strawberry.field(
        default=None, description="Business impact. Omitted: the template's, else MEDIUM."
    )
    urgency: Urgency | None = strawberry.field(
        default=None, description="Urgency. Omitted: the template's, else MEDIUM."
    )
    service_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Affected services."
    )
    labels: list[str] = strawberry.field(default_factory=list, description="Free-form labels.")
    visibility: Visibility | None = strawberry.field(
        default=None,
        description="PUBLIC shows the incident on the status page at once; INTERNAL keeps it off "
        "until a PUBLIC update is posted. Omitted: the template's, else INTERNAL.",
    )
    impact_started_at: datetime | None = strawberry.field(
        default=None, description="When the impact began, if earlier than now."
    )
    detected_at: datetime | None = strawberry.field(
        default=None,
        description="When monitoring or a person first noticed it (not in the future); "
        "SLA and MTTA measure from here. Default: now.",
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retries by the same caller with the same key and the same input return the "
        "same incident instead of a duplicate; the key with a different input is "
        "IDEMPOTENCY_KEY_REUSED. Keys are per caller: another caller's key never matches.",
    )
    restricted: bool | None = strawberry.field(
        default=None,
        description="Visible only to its participants (declarer, role holders, added "
        "participants) and ADMIN; it cannot be published. Omitted: the template's, else false.",
    )
    template_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="A playbook template (incidentTemplates): fills category, impact, urgency, "
        "visibility and description where omitted, adds its labels and services, copies its "
        "tasks and links its runbook.",
    )
    component_impacts: list[ComponentImpactInput] | None = strawberry.field(
        default=None,
        description="Components this incident holds in a degraded or outage status while it is "
        "open; their status follows by itself (each also counts as an affected service).",
    )

    def given(self) -> Given:
        """Which fields the caller set, so a template fills only the others."""
        return Given(
            category=self.category is not None,
            impact=self.impact is not None,
            urgency=self.urgency is not None,
            visibility=self.visibility is not None,
            description=self.description is not None,
            restricted=self.restricted is not None,
        )

    def to_domain(self) -> Declaration:
        if self.idempotency_key is not None and not 1 <= len(self.idempotency_key) <= 200:
            raise invalid("idempotencyKey", "idempotencyKey must be 1..200 characters")
        return Declaration(
            title=self.title,
            description=self.description,
            category=self.category or enums.IncidentCategory.OTHER,
            impact=self.impact or enums.Impact.MEDIUM,
            urgency=self.urgency or enums.Urgency.MEDIUM,
            service_ids=[validation.object_id(s, "serviceIds") for s in self.service_ids],
            labels=self.labels,
            visibility=self.visibility or enums.Visibility.INTERNAL,
            restricted=bool(self.restricted),
            impact_started_at=self.impact_started_at,
            detected_at=self.detected_at,
            idempotency_key=self.idempotency_key,
            component_impacts=impact_specs(self.component_impacts) or (),
        )


@strawberry.input(description="Change fields of an incident; omitted fields stay as they are.")
class UpdateIncidentInput:
    id: strawberry.ID = strawberry.field(description="The incident.")
    expected_version: int | None = strawberry.field(
        default=None, description="If given, the change is refused with CONFLICT when stale."
    )
    title: str | None = strawberry.field(default=None, description="New title.")
    description: str | None = strawberry.field(default=None, description="New description.")
    category: IncidentCategory | None = strawberry.field(default=None, description="New category.")
    impact: Impact | None = strawberry.field(default=None, description="New impact.")
    urgency: Urgency | None = strawberry.field(default=None, description="New urgency.")
    service_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Replace the affected services."
    )
    labels: list[str] | None = strawberry.field(default=None, description="Replace the labels.")
    impact_started_at: datetime | None = strawberry.field(
        default=None, description="When the impact began."
    )
    component_impacts: list[ComponentImpactInput] | None = strawberry.field(
        default=None,
        description="Replace the open component impacts: unchanged ones keep their start, "
        "changed or left-out ones end now, new ones start now; [] ends them all.",
    )

    def to_domain(self) -> Update:
        return Update(
            title=self.title,
            description=self.description,
            category=self.category,
            impact=self.impact,
            urgency=self.urgency,
            service_ids=(
                [validation.object_id(s, "serviceIds") for s in self.service_ids]
                if self.service_ids is not None
                else None
            ),
            labels=self.labels,
            impact_started_at=self.impact_started_at,
            component_impacts=impact_specs(self.component_impacts),
        )


@strawberry.input(description="Move an incident through its lifecycle.")
class TransitionIncidentInput:
    id: strawberry.ID = strawberry.field(description="The incident.")
    to: IncidentStatus = strawberry.field(description="The target status.")
    note: str | None = strawberry.field(default=None, description="Why; recorded on the timeline.")
    resolution: str | None = strawberry.field(
        default=None, description="Resolution summary; only with to: RESOLVED."
    )
    public_update: str | None = strawberry.field(
        default=None,
        description="A PUBLIC update posted with the change (e.g. 'Resolved: payments work "
        "again'), carrying the new public status; it also publishes the incident.",
    )
    expected_version: int | None = strawberry.field(
        default=None, description="If given, refused with CONFLICT when stale."
    )


@strawberry.input(description="Add an internal note to the timeline.")
class AddNoteInput:
    id: strawberry.ID = strawberry.field(description="The incident.")
    body: str = strawberry.field(description="The note, up to 20,000 characters.")
    occurred_at: datetime | None = strawberry.field(
        default=None,
        description="When what the note records happened, if before now: not in the future, "
        "not earlier than the incident's detection minus BACKDATE_WINDOW_HOURS.",
    )


@strawberry.input(description="Post a status update to stakeholders.")
class PostUpdateInput:
    id: strawberry.ID = strawberry.field(description="The incident.")
    body: str = strawberry.field(description="The update, up to 20,000 characters.")
    visibility: Visibility = strawberry.field(
        default=enums.Visibility.INTERNAL,
        description="PUBLIC updates appear on the status page (and publish the incident).",
    )


@strawberry.input(description="Give someone a role in the response.")
class AssignRoleInput:
    id: strawberry.ID = strawberry.field(description="The incident.")
    role: IncidentRole = strawberry.field(
        description="COMMANDER, COMMUNICATIONS_LEAD and SCRIBE have one holder; RESPONDER many."
    )
    user: str = strawberry.field(description="Who.")


@strawberry.input(description="Take a role away.")
class UnassignRoleInput:
    id: strawberry.ID = strawberry.field(description="The incident.")
    role: IncidentRole = strawberry.field(description="The role.")
    user: str = strawberry.field(description="Who.")


@strawberry.input(description="Record the root cause.")
class SetRootCauseInput:
    id: strawberry.ID = strawberry.field(description="The incident.")
    root_cause: str = strawberry.field(description="The root cause, up to 20,000 characters.")


@strawberry.input(description="Link an incident to another one.")
class LinkIncidentsInput:
    id: strawberry.ID = strawberry.field(description="The incident that gets the link.")
    related_id: strawberry.ID = strawberry.field(description="The other incident.")
    kind: LinkKind = strawberry.field(
        default=enums.LinkKind.RELATED,
        description="RELATED, DUPLICATE_OF, or PARENT_OF: `id` becomes a major incident that "
        "gathers `relatedId` (one level deep; both change in one transaction).",
    )
