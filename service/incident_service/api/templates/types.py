"""Playbook templates over GraphQL: the type, its inputs and its payload."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from incident_service.api.common import (
    Impact,
    IncidentCategory,
    IncidentRole,
    Urgency,
    UserError,
    Visibility,
)
from incident_service.api.context import Info
from incident_service.domain import templates as domain
from incident_service.domain.enums import Impact as DomainImpact
from incident_service.domain.enums import IncidentCategory as DomainCategory
from incident_service.domain.enums import Urgency as DomainUrgency
from incident_service.domain.enums import Visibility as DomainVisibility
from incident_service.domain.tasks import TaskSpec
from incident_service.domain.validation import object_id

if TYPE_CHECKING:
    from incident_service.api.services.types import Service


@strawberry.type(description="A task a template copies into every incident declared from it.")
class TemplateTask:
    title: str = strawberry.field(description="What to do.")
    description: str | None = strawberry.field(description="How, or why.")
    assignee: str | None = strawberry.field(description="Who usually does it.")


@strawberry.type(
    description="A playbook: what a kind of incident usually is, the roles to fill, its "
    "runbook and the task checklist. declareIncident(templateId) starts from it."
)
class IncidentTemplate:
    id: strawberry.ID = strawberry.field(description="Opaque id.")
    name: str = strawberry.field(description="Name, 1..100 characters.")
    description: str | None = strawberry.field(description="When to use it.")
    category: IncidentCategory = strawberry.field(description="Category of incidents from it.")
    impact: Impact = strawberry.field(description="Their impact, unless the declarer sets one.")
    urgency: Urgency = strawberry.field(description="Their urgency, unless the declarer sets one.")
    visibility: Visibility = strawberry.field(description="Their visibility, unless set.")
    labels: list[str] = strawberry.field(description="Labels added to incidents from it.")
    service_ids: list[strawberry.ID] = strawberry.field(
        description="Services (components) added to incidents from it."
    )
    tasks: list[TemplateTask] = strawberry.field(description="The checklist it copies, in order.")

    @strawberry.field(description="The services (components) added to incidents from it.")
    async def services(
        self, info: Info
    ) -> list[Annotated[Service, strawberry.lazy("incident_service.api.services.types")]]:
        from incident_service.api.services.types import Service

        loaded = await info.context.service_loader.load_many([str(i) for i in self.service_ids])
        return [Service.from_domain(s) for s in loaded if s is not None]

    roles: list[IncidentRole] = strawberry.field(description="The roles to fill.")
    runbook_url: str | None = strawberry.field(
        description="The runbook, linked (RUNBOOK) to every incident declared from it."
    )
    restricted: bool = strawberry.field(
        description="Incidents declared from it are restricted to their participants."
    )
    builtin: bool = strawberry.field(
        description="One of the shipped playbooks (`incident-service templates restore` puts it "
        "back as shipped)."
    )
    archived: bool = strawberry.field(description="Archived templates cannot be declared from.")
    version: int = strawberry.field(description="Increases on every change (expectedVersion).")
    created_at: datetime = strawberry.field(description="When it was made.")
    updated_at: datetime = strawberry.field(description="Last change.")

    @classmethod
    def from_domain(cls, t: domain.Template) -> IncidentTemplate:
        s = t.spec
        return cls(
            id=strawberry.ID(t.id), name=s.name, description=s.description,
            category=s.category, impact=s.impact, urgency=s.urgency, visibility=s.visibility,
            labels=list(s.labels), service_ids=[strawberry.ID(i) for i in s.service_ids],
            tasks=[TemplateTask(title=x.title, description=x.description, assignee=x.assignee)
                   for x in s.tasks],
            roles=list(s.roles), runbook_url=s.runbook_url, restricted=s.restricted,
            builtin=t.builtin is not None,
            archived=t.archived, version=t.version, created_at=t.created_at,
            updated_at=t.updated_at,
        )  # fmt: skip


@strawberry.input(description="A task of a template.")
class TemplateTaskInput:
    title: str = strawberry.field(description="What to do, 1..200 characters.")
    description: str | None = strawberry.field(default=None, description="How, or why.")
    assignee: str | None = strawberry.field(default=None, description="Who usually does it.")


@strawberry.input(description="A playbook template (all of it: an update replaces it whole).")
class IncidentTemplateInput:
    name: str = strawberry.field(description="Name, 1..100 characters.")
    description: str | None = strawberry.field(default=None, description="When to use it.")
    category: IncidentCategory = strawberry.field(
        default=DomainCategory.OTHER, description="Category of incidents from it."
    )
    impact: Impact = strawberry.field(default=DomainImpact.MEDIUM, description="Their impact.")
    urgency: Urgency = strawberry.field(default=DomainUrgency.MEDIUM, description="Urgency.")
    visibility: Visibility = strawberry.field(
        default=DomainVisibility.INTERNAL, description="Their visibility."
    )
    labels: list[str] = strawberry.field(default_factory=list, description="Labels to add.")
    service_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Services to add; each must exist."
    )
    tasks: list[TemplateTaskInput] = strawberry.field(
        default_factory=list, description="The checklist, at most 100 tasks."
    )
    roles: list[IncidentRole] = strawberry.field(
        default_factory=list, description="The roles to fill."
    )
    runbook_url: str | None = strawberry.field(default=None, description="An http or https URL.")
    restricted: bool = strawberry.field(
        default=False, description="Restrict incidents from it to their participants."
    )

    def to_domain(self) -> domain.TemplateSpec:
        return domain.TemplateSpec(
            name=self.name, description=self.description, category=self.category,
            impact=self.impact, urgency=self.urgency, visibility=self.visibility,
            labels=tuple(self.labels),
            service_ids=tuple(object_id(i, "serviceIds") for i in self.service_ids),
            tasks=tuple(TaskSpec(t.title, t.description, t.assignee) for t in self.tasks),
            roles=tuple(self.roles), runbook_url=self.runbook_url, restricted=self.restricted,
        )  # fmt: skip


@strawberry.type(description="Result of a template mutation.")
class IncidentTemplatePayload:
    template: IncidentTemplate | None = strawberry.field(
        description="The template after the change (null when nothing could be done)."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Expected failures; when non-empty nothing was written."
    )

    @classmethod
    def ok(cls, template: domain.Template) -> IncidentTemplatePayload:
        return cls(template=IncidentTemplate.from_domain(template), user_errors=[])

    @classmethod
    def failed(cls, errors: list[UserError]) -> IncidentTemplatePayload:
        return cls(template=None, user_errors=errors)
