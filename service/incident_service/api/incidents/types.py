"""Internal GraphQL types of incidents (never reachable by anonymous callers)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, cast

import strawberry
from strawberry.scalars import JSON

from incident_service.api.common import (
    ComponentStatus,
    Impact,
    IncidentCategory,
    IncidentRole,
    IncidentStatus,
    LinkKind,
    PageInfo,
    Priority,
    PublicStatus,
    Urgency,
    UserError,
    Visibility,
)
from incident_service.api.context import Info
from incident_service.domain import incident as domain
from incident_service.domain.errors import validation
from incident_service.domain.incident import Incident as DomainIncident
from incident_service.domain.incident import viewers
from incident_service.domain.priority import sla_status
from incident_service.domain.validation import page_size

if TYPE_CHECKING:
    from incident_service.api.alerts.types import Alert
    from incident_service.api.incidents.external_links import ExternalLink
    from incident_service.api.incidents.tasks import Task
    from incident_service.api.postmortems.types import ActionItem, Postmortem
    from incident_service.api.services.types import Service
    from incident_service.api.templates.types import IncidentTemplate


@strawberry.type(description="One append-only entry of an incident's timeline.")
class IncidentEvent:
    id: strawberry.ID = strawberry.field(description="Stable id: `<incidentId>:<seq>`.")
    incident_id: strawberry.ID = strawberry.field(description="The incident it belongs to.")
    seq: int = strawberry.field(
        description="Position in the incident's timeline: 1, 2, 3 ... with no gaps."
    )
    type: str = strawberry.field(
        description="What happened: DECLARED, UPDATED, PRIORITY_CHANGED, STATUS_CHANGED, "
        "RESOLUTION_SET, NOTE_ADDED, UPDATE_POSTED, PUBLISHED, ROLE_ASSIGNED, "
        "ROLE_UNASSIGNED, ROOT_CAUSE_SET, INCIDENT_LINKED, IMPACTS_CHANGED, IMPACTS_ENDED, "
        "IMPACTS_RESUMED; the review's POSTMORTEM_UPDATED, POSTMORTEM_SUBMITTED, "
        "POSTMORTEM_PUBLISHED, ACTION_ITEM_ADDED, ACTION_ITEM_UPDATED, ACTION_ITEM_COMPLETED "
        "(these leave the incident's version as it is)."
    )
    at: datetime = strawberry.field(description="When it was recorded (UTC).")
    occurred_at: datetime = strawberry.field(
        description="When what it records happened: `at`, or earlier for a note written "
        "after the fact (addNote's occurredAt). The timeline stays ordered by seq."
    )
    actor: str = strawberry.field(
        description="Who did it, as an actor id no two identities share: key:<api key id> "
        "(key:admin for ADMIN_API_KEY), oidc:<issuer host>/<sub> for a signed-in user, "
        "integration:<name>. Events recorded before actor ids may hold a plain name."
    )
    visibility: Visibility = strawberry.field(description="PUBLIC events reach the status page.")
    message: str | None = strawberry.field(description="Human-readable text of the event.")
    data: JSON = strawberry.field(
        description="Structured details, e.g. {from, to} for STATUS_CHANGED."
    )

    @strawberry.field(
        description="Who did it, for reading: the API key's or integration's name, the "
        "user's name as they last signed in; the actor id when no name is known. Names can "
        "repeat and change: compare `actor`, never this."
    )
    async def actor_name(self, info: Info) -> str:
        return await info.context.actor_name_loader.load(self.actor)

    @classmethod
    def from_domain(cls, e: domain.Event) -> IncidentEvent:
        return cls(
            id=strawberry.ID(f"{e.incident_id}:{e.seq}"),
            incident_id=strawberry.ID(e.incident_id),
            seq=e.seq,
            type=e.type,
            at=e.at,
            occurred_at=e.occurred_at or e.at,
            actor=e.actor,
            visibility=e.visibility,
            message=e.message,
            data=cast(JSON, e.data),
        )


@strawberry.type(description="An edge of the timeline.")
class IncidentEventEdge:
    cursor: str = strawberry.field(description="Opaque cursor (the event's seq).")
    node: IncidentEvent = strawberry.field(description="The event.")


@strawberry.type(description="A page of an incident's timeline, oldest first.")
class IncidentEventConnection:
    edges: list[IncidentEventEdge] = strawberry.field(description="The events on this page.")
    page_info: PageInfo = strawberry.field(description="Paging information.")
    total_count: int = strawberry.field(description="Number of events in the whole timeline.")


@strawberry.type(description="Who holds a role in the response to an incident.")
class RoleAssignment:
    role: IncidentRole = strawberry.field(description="The role.")
    user: str = strawberry.field(description="The person holding it.")
    assigned_at: datetime = strawberry.field(description="Since when.")


@strawberry.type(description="SLA targets of an incident's priority and whether they were met.")
class Sla:
    acknowledge_due: datetime = strawberry.field(description="Acknowledge by this time.")
    resolve_due: datetime = strawberry.field(description="Resolve by this time.")
    acknowledge_breached: bool = strawberry.field(
        description="Acknowledged late, or not yet acknowledged and already late."
    )
    resolve_breached: bool = strawberry.field(
        description="Resolved late, or not yet resolved and already late."
    )


@strawberry.type(
    description="What an incident does to one component, over one period. An open period "
    "(no endedAt) holds the component in `status`; resolving the incident ends it."
)
class ComponentImpact:
    status: ComponentStatus = strawberry.field(description="The status it holds it in.")
    started_at: datetime = strawberry.field(description="When this period began.")
    ended_at: datetime | None = strawberry.field(
        description="When it ended (changed, removed, or the incident resolved); null while open."
    )
    service_id: strawberry.Private[str]

    @strawberry.field(description="The component.")
    async def service(
        self, info: Info
    ) -> Annotated[Service, strawberry.lazy("incident_service.api.services.types")] | None:
        from incident_service.api.services.types import Service

        found = await info.context.service_loader.load(self.service_id)
        return Service.from_domain(found) if found else None


@strawberry.type(description="A link from this incident to another one.")
class IncidentLink:
    kind: LinkKind = strawberry.field(description="RELATED or DUPLICATE_OF.")
    incident_id: strawberry.ID = strawberry.field(description="The other incident's id.")
    linked_at: datetime = strawberry.field(description="When the link was made.")

    @strawberry.field(description="The other incident.")
    async def incident(self, info: Info) -> Incident | None:
        other = await info.context.incident_loader.load(self.incident_id)
        return Incident.from_domain(other) if other else None


@strawberry.type(description="An incident: the internal view, for authenticated users.")
class Incident:
    id: strawberry.ID = strawberry.field(description="Opaque id.")
    key: str = strawberry.field(description="Human key, e.g. INC-42.")
    title: str = strawberry.field(description="Short summary, 1..200 characters.")
    description: str | None = strawberry.field(description="Longer description.")
    status: IncidentStatus = strawberry.field(description="Internal lifecycle status.")
    public_status: PublicStatus = strawberry.field(
        description="The status the public sees, derived from `status`."
    )
    category: IncidentCategory = strawberry.field(description="Kind of incident.")
    impact: Impact = strawberry.field(description="Business impact.")
    urgency: Urgency = strawberry.field(description="Urgency.")
    priority: Priority = strawberry.field(description="Derived from impact x urgency.")
    visibility: Visibility = strawberry.field(
        description="PUBLIC incidents appear on the status page while active."
    )
    labels: list[str] = strawberry.field(description="Free-form labels.")
    roles: list[RoleAssignment] = strawberry.field(description="The response team.")
    component_impacts: list[ComponentImpact] = strawberry.field(
        description="Every impact period on components, oldest first; the open ones derive the "
        "components' status (see Service.statusReason)."
    )
    root_cause: str | None = strawberry.field(description="The recorded root cause.")
    resolution: str | None = strawberry.field(description="How it was resolved.")
    version: int = strawberry.field(
        description="Increases by one on every change; pass as expectedVersion to guard writes."
    )
    restricted: bool = strawberry.field(
        description="Visible only to its participants and ADMIN; it cannot be published."
    )
    participants: list[str] = strawberry.field(
        description="Who sees it while restricted, as actor ids: the declarer, every role "
        "holder and the people added with addParticipant."
    )
    declared_by: str = strawberry.field(description="Who declared it.")
    impact_started_at: datetime | None = strawberry.field(
        description="When the impact began (set by users; may precede detection)."
    )
    detected_at: datetime | None = strawberry.field(description="When it was detected.")
    declared_at: datetime = strawberry.field(description="When it was declared.")
    acknowledged_at: datetime | None = strawberry.field(description="First acknowledgement.")
    identified_at: datetime | None = strawberry.field(description="When the cause was identified.")
    mitigated_at: datetime | None = strawberry.field(
        description="When a fix was in place (status MONITORING)."
    )
    resolved_at: datetime | None = strawberry.field(description="When it was resolved.")
    closed_at: datetime | None = strawberry.field(description="When it was closed (final).")
    updated_at: datetime = strawberry.field(description="Last change.")
    service_ids: strawberry.Private[tuple[str, ...]]
    domain: strawberry.Private[DomainIncident]

    @classmethod
    def from_domain(cls, i: DomainIncident) -> Incident:
        return cls(
            id=strawberry.ID(i.id),
            key=i.key,
            title=i.title,
            description=i.description,
            status=i.status,
            public_status=i.public_status,
            category=i.category,
            impact=i.impact,
            urgency=i.urgency,
            priority=i.priority,
            visibility=i.visibility,
            labels=list(i.labels),
            roles=[
                RoleAssignment(role=r.role, user=r.user, assigned_at=r.assigned_at) for r in i.roles
            ],
            component_impacts=[
                ComponentImpact(
                    status=c.status,
                    started_at=c.started_at,
                    ended_at=c.ended_at,
                    service_id=c.service_id,
                )
                for c in i.component_impacts
            ],
            root_cause=i.root_cause,
            resolution=i.resolution,
            version=i.version,
            restricted=i.restricted,
            participants=list(viewers(i)),
            declared_by=i.declared_by,
            impact_started_at=i.impact_started_at,
            detected_at=i.detected_at,
            declared_at=i.declared_at,
            acknowledged_at=i.acknowledged_at,
            identified_at=i.identified_at,
            mitigated_at=i.mitigated_at,
            resolved_at=i.resolved_at,
            closed_at=i.closed_at,
            updated_at=i.updated_at,
            service_ids=i.service_ids,
            domain=i,
        )

    @strawberry.field(
        description="Related and duplicate incidents, and for a major incident the ones it "
        "gathers (PARENT_OF); links to incidents the caller may not see are left out."
    )
    async def links(self, info: Info) -> list[IncidentLink]:
        links = self.domain.links
        if not links:
            return []
        seen = await info.context.incident_loader.load_many([x.incident_id for x in links])
        visible = {i.id for i in seen if i is not None}
        return [
            IncidentLink(
                kind=x.kind, incident_id=strawberry.ID(x.incident_id), linked_at=x.linked_at
            )
            for x in links
            if x.incident_id in visible
        ]

    @strawberry.field(
        description="The major incident this one belongs to (null: none). One level deep."
    )
    async def parent(self, info: Info) -> Incident | None:
        if self.domain.parent_id is None:
            return None
        found = await info.context.incident_loader.load(self.domain.parent_id)
        return Incident.from_domain(found) if found else None

    @strawberry.field(
        description="For a major incident, the incidents it gathers, oldest link first, each "
        "with its status; it cannot be RESOLVED while one is open (CHILDREN_OPEN)."
    )
    async def children(self, info: Info) -> list[Incident]:
        ids = [x.incident_id for x in self.domain.links if x.kind is LinkKind.PARENT_OF]
        found = await info.context.incident_loader.load_many(ids)
        return [Incident.from_domain(i) for i in found if i is not None]

    @strawberry.field(description="The playbook template it was declared from (null: none).")
    async def template(
        self, info: Info
    ) -> (
        Annotated[IncidentTemplate, strawberry.lazy("incident_service.api.templates.types")] | None
    ):
        from incident_service.api.templates.types import IncidentTemplate

        if self.domain.template_id is None:
            return None
        found = await info.context.templates.get(self.domain.template_id)
        return IncidentTemplate.from_domain(found) if found else None

    @strawberry.field(description="The task checklist, in order. Internal: never public.")
    def tasks(
        self,
    ) -> list[Annotated[Task, strawberry.lazy("incident_service.api.incidents.tasks")]]:
        from incident_service.api.incidents.tasks import Task

        return [Task.from_domain(t) for t in sorted(self.domain.tasks, key=lambda t: t.order)]

    @strawberry.field(
        description="Runbooks, tickets, pull requests, dashboards, evidence and chats, in the "
        "order they were added. Internal: never public."
    )
    def external_links(
        self,
    ) -> list[
        Annotated[ExternalLink, strawberry.lazy("incident_service.api.incidents.external_links")]
    ]:
        from incident_service.api.incidents.external_links import ExternalLink

        return [ExternalLink.from_domain(x) for x in self.domain.external_links]

    @strawberry.field(description="Affected services (components).")
    async def services(
        self, info: Info
    ) -> list[Annotated[Service, strawberry.lazy("incident_service.api.services.types")]]:
        from incident_service.api.services.types import Service

        loaded = await info.context.service_loader.load_many(list(self.service_ids))
        return [Service.from_domain(s) for s in loaded if s is not None]

    @strawberry.field(
        description="The alerts that opened or joined it, newest first (at most 100)."
    )
    async def alerts(
        self, info: Info
    ) -> list[Annotated[Alert, strawberry.lazy("incident_service.api.alerts.types")]]:
        from incident_service.api.alerts.types import Alert
        from incident_service.store.alerts import AlertQuery

        page = await info.context.alerts.page(AlertQuery(incident_id=str(self.id)), 100, None)
        return [Alert.from_domain(a) for a, _ in page.items]

    @strawberry.field(description="SLA targets for this priority and whether they were breached.")
    def sla(self, info: Info) -> Sla:
        target = info.context.sla_targets[self.domain.priority]
        # Measured from detection: an alert that waited before it was declared
        # already used part of the time to acknowledge.
        started = self.detected_at or self.declared_at
        s = sla_status(target, started, self.acknowledged_at, self.resolved_at, datetime.now(UTC))
        return Sla(
            acknowledge_due=s.acknowledge_due,
            resolve_due=s.resolve_due,
            acknowledge_breached=s.acknowledge_breached,
            resolve_breached=s.resolve_breached,
        )

    @strawberry.field(description="Its postmortem; null until one is written.")
    async def postmortem(
        self, info: Info
    ) -> Annotated[Postmortem, strawberry.lazy("incident_service.api.postmortems.types")] | None:
        from incident_service.api.postmortems.types import Postmortem

        found = await info.context.postmortems.get(self.domain.id)
        return Postmortem.from_domain(found, self.root_cause) if found else None

    @strawberry.field(
        description="The whole postmortem as a Markdown document (also at "
        "GET /incidents/{key}/postmortem.md), with placeholders where nothing is written yet."
    )
    async def postmortem_markdown(self, info: Info) -> str:
        from incident_service.api.postmortems.export import markdown

        return await markdown(info.context.resources, self.domain)

    @strawberry.field(description="Its action items, soonest due first (at most 200).")
    async def action_items(
        self, info: Info
    ) -> list[Annotated[ActionItem, strawberry.lazy("incident_service.api.postmortems.types")]]:
        from incident_service.api.postmortems.types import ActionItem

        found = await info.context.action_items.for_incident(self.domain.id)
        return [ActionItem.from_domain(a) for a in found]

    @strawberry.field(description="The timeline, oldest first. `after` is an edge's cursor.")
    async def timeline(
        self, info: Info, first: int | None = 50, after: str | None = None
    ) -> IncidentEventConnection:
        limit = page_size(first, default=50, maximum=500)
        after_seq = _seq_cursor(after)
        events = await info.context.timeline_loader.load((self.domain.id, after_seq, limit + 1))
        page = events[:limit]
        edges = [
            IncidentEventEdge(cursor=str(e.seq), node=IncidentEvent.from_domain(e)) for e in page
        ]
        return IncidentEventConnection(
            edges=edges,
            page_info=PageInfo.forward([e.cursor for e in edges], len(events) > limit),
            total_count=self.domain.last_seq,
        )


def _seq_cursor(after: str | None) -> int:
    if after is None:
        return 0
    # isascii: isdigit alone accepts "²", which int() refuses.
    if not (after.isascii() and after.isdigit()) or len(after) > 12:
        raise validation("after", "after must be a cursor from this timeline")
    return int(after)


@strawberry.type(description="An edge of the incident list.")
class IncidentEdge:
    cursor: str = strawberry.field(description="Opaque cursor; pass as `after`.")
    node: Incident = strawberry.field(description="The incident.")


@strawberry.type(description="A page of incidents.")
class IncidentConnection:
    edges: list[IncidentEdge] = strawberry.field(description="The incidents on this page.")
    page_info: PageInfo = strawberry.field(description="Paging information.")
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="Number of incidents matching the filter, over all pages.")
    async def total_count(self) -> int:
        return await self.count()


@strawberry.type(description="Result of an incident mutation.")
class IncidentPayload:
    incident: Incident | None = strawberry.field(
        description="The incident after the change (null when nothing could be done)."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Expected failures; when non-empty nothing was written."
    )

    @classmethod
    def ok(cls, incident: DomainIncident) -> IncidentPayload:
        return cls(incident=Incident.from_domain(incident), user_errors=[])

    @classmethod
    def failed(cls, errors: list[UserError]) -> IncidentPayload:
        return cls(incident=None, user_errors=errors)
