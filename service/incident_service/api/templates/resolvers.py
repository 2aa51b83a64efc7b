"""Playbook templates: listed by everyone signed in, managed by ADMIN."""

from __future__ import annotations

from dataclasses import replace

import strawberry

from incident_service import clock
from incident_service.api.common import payload
from incident_service.api.context import Info
from incident_service.api.permissions import IsAdmin, IsViewer
from incident_service.api.templates.types import (
    IncidentTemplate,
    IncidentTemplateInput,
    IncidentTemplatePayload,
)
from incident_service.domain import templates as domain


@strawberry.type
class TemplateQueries:
    @strawberry.field(
        description="Playbook templates, by name; archived ones only when asked for.",
        permission_classes=[IsViewer],
    )
    async def incident_templates(
        self, info: Info, include_archived: bool = False
    ) -> list[IncidentTemplate]:
        found = await info.context.templates.all(include_archived)
        return [IncidentTemplate.from_domain(t) for t in found]


async def _checked(info: Info, input: IncidentTemplateInput) -> domain.TemplateSpec:
    spec = domain.checked_spec(input.to_domain())
    await info.context.services.require(list(spec.service_ids), ("input", "serviceIds"))
    return spec


@strawberry.type
class TemplateMutations:
    @strawberry.mutation(description="Create a playbook template.", permission_classes=[IsAdmin])
    async def create_incident_template(
        self, info: Info, input: IncidentTemplateInput
    ) -> IncidentTemplatePayload:
        async def work() -> domain.Template:
            spec = await _checked(info, input)
            return await info.context.templates.create(spec, clock.now())

        return await payload(work, IncidentTemplatePayload.ok, IncidentTemplatePayload.failed)

    @strawberry.mutation(
        description="Replace a template's content (a built-in one too: it is then never "
        "overwritten, until `incident-service templates restore`).",
        permission_classes=[IsAdmin],
    )
    async def update_incident_template(
        self,
        info: Info,
        id: strawberry.ID,
        input: IncidentTemplateInput,
        expected_version: int | None = None,
    ) -> IncidentTemplatePayload:
        async def work() -> domain.Template:
            before = await info.context.templates.require(str(id))
            spec = await _checked(info, input)
            after = replace(before, spec=spec, updated_at=clock.now())
            return await info.context.templates.save(before, after, expected_version)

        return await payload(work, IncidentTemplatePayload.ok, IncidentTemplatePayload.failed)

    @strawberry.mutation(
        description="Archive a template (or bring it back with archived: false): archived "
        "templates are not listed by default and cannot be declared from.",
        permission_classes=[IsAdmin],
    )
    async def archive_incident_template(
        self, info: Info, id: strawberry.ID, archived: bool = True
    ) -> IncidentTemplatePayload:
        async def work() -> domain.Template:
            before = await info.context.templates.require(str(id))
            if before.archived == archived:
                return before
            after = replace(before, archived=archived, updated_at=clock.now())
            return await info.context.templates.save(before, after, None)

        return await payload(work, IncidentTemplatePayload.ok, IncidentTemplatePayload.failed)
