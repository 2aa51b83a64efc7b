"""Incident mutations. Each returns a payload; expected failures are userErrors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime

import strawberry
from bson import ObjectId

from incident_service import clock
from incident_service.api.common import payload
from incident_service.api.context import Info
from incident_service.api.incidents.inputs import (
    AddNoteInput,
    AssignRoleInput,
    DeclareIncidentInput,
    LinkIncidentsInput,
    PostUpdateInput,
    SetRootCauseInput,
    TransitionIncidentInput,
    UnassignRoleInput,
    UpdateIncidentInput,
)
from incident_service.api.incidents.types import IncidentPayload
from incident_service.api.permissions import IsResponder
from incident_service.domain import external_links, major, tasks, templates
from incident_service.domain import incident as domain
from incident_service.domain.enums import IncidentStatus, LinkKind
from incident_service.domain.errors import conflict, not_found
from incident_service.domain.external_links import ExternalLinkKind
from incident_service.domain.impacts import ImpactSpec
from incident_service.domain.postmortem import require_for_close
from incident_service.domain.templates import Template
from incident_service.domain.validation import object_id

Command = Callable[[domain.Incident, datetime, str], domain.Change]


async def incident_payload(work: Callable[[], Awaitable[domain.Incident]]) -> IncidentPayload:
    return await payload(work, IncidentPayload.ok, IncidentPayload.failed)


async def apply_command(
    info: Info, raw_id: str, command: Command, expected_version: int | None = None
) -> domain.Incident:
    """Run a pure domain command on the stored incident and persist the result."""
    now, actor = clock.now(), info.context.principal.actor
    change = await info.context.incidents.apply(
        object_id(raw_id), lambda i: command(i, now, actor), expected_version
    )
    return change.incident


async def _check_services(
    info: Info, ids: Sequence[str], impacts: Sequence[ImpactSpec] = ()
) -> list[ImpactSpec]:
    """Every named service exists; returns the impacts with their service names."""
    services = info.context.services
    await services.require(ids, ("input", "serviceIds"))
    found = await services.require([i.service_id for i in impacts], ("input", "componentImpacts"))
    return [replace(i, service_name=found[i.service_id].name) for i in impacts]


def _from_template(
    template: Template, now: datetime, actor: str
) -> Callable[[domain.Change], domain.Change]:
    """What a template adds to the declaration's write: its tasks and its runbook link."""

    def then(change: domain.Change) -> domain.Change:
        incident_id = change.incident.id
        specs = [(f"{incident_id}:{ObjectId()}", t) for t in template.spec.tasks]
        if specs:
            change = domain.followed_by(
                change, lambda i: tasks.add_tasks(i, specs, now=now, actor=actor)
            )
        runbook = template.spec.runbook_url
        if runbook:
            link_id = f"{incident_id}:{ObjectId()}"
            change = domain.followed_by(
                change,
                lambda i: external_links.add_link(
                    i, link_id, runbook, f"Runbook: {template.spec.name}",
                    ExternalLinkKind.RUNBOOK, now=now, actor=actor,
                ),
            )  # fmt: skip
        return change

    return then


@strawberry.type
class IncidentMutations:
    @strawberry.mutation(
        description="Declare an incident. With an idempotencyKey, a retry returns the same one.",
        permission_classes=[IsResponder],
    )
    async def declare_incident(self, info: Info, input: DeclareIncidentInput) -> IncidentPayload:
        async def work() -> domain.Incident:
            cmd = input.to_domain()
            template = None
            if input.template_id is not None:
                template = await info.context.templates.require(
                    str(input.template_id), "templateId"
                )
                cmd = replace(templates.fill(cmd, template, input.given()), template_id=template.id)
            named = await _check_services(info, cmd.service_ids, cmd.component_impacts)
            cmd = replace(cmd, component_impacts=named)
            now, actor = clock.now(), info.context.principal.actor
            incident, _ = await info.context.incidents.declare(
                cmd,
                now=now,
                actor=actor,
                then=_from_template(template, now, actor) if template else None,
            )
            return incident

        return await incident_payload(work)

    @strawberry.mutation(
        description="Change fields of an incident. Priority follows impact and urgency.",
        permission_classes=[IsResponder],
    )
    async def update_incident(self, info: Info, input: UpdateIncidentInput) -> IncidentPayload:
        async def work() -> domain.Incident:
            cmd = input.to_domain()
            named = await _check_services(info, cmd.service_ids or (), cmd.component_impacts or ())
            if cmd.component_impacts is not None:
                cmd = replace(cmd, component_impacts=named)
            return await apply_command(
                info,
                input.id,
                lambda i, now, actor: domain.update(i, cmd, now=now, actor=actor),
                input.expected_version,
            )

        return await incident_payload(work)

    @strawberry.mutation(
        description="Move an incident to another status. Forward moves may skip steps up to "
        "RESOLVED; CLOSED only from RESOLVED and final, and for the priorities in "
        "REQUIRE_POSTMORTEM_FOR only once the postmortem is PUBLISHED (POSTMORTEM_REQUIRED); "
        "back to INVESTIGATING from IDENTIFIED, MONITORING or RESOLVED (reopen).",
        permission_classes=[IsResponder],
    )
    async def transition_incident(
        self, info: Info, input: TransitionIncidentInput
    ) -> IncidentPayload:
        async def work() -> domain.Incident:
            # Once PUBLISHED a postmortem stays so: read before the command, it cannot go stale.
            published = input.to is IncidentStatus.CLOSED and (
                await info.context.postmortems.is_published(object_id(input.id))
            )
            policy = info.context.settings.postmortem_required_for

            def command(i: domain.Incident, now: datetime, actor: str) -> domain.Change:
                change = domain.transition(
                    i,
                    input.to,
                    note=input.note,
                    resolution=input.resolution,
                    public_update=input.public_update,
                    now=now,
                    actor=actor,
                )
                require_for_close(i, input.to, published, policy)
                return change

            incidents = info.context.incidents
            current = await incidents.get(object_id(input.id))
            if current is None:
                raise not_found("incident")
            # Every child counts, also those the caller cannot see (named only by number).
            children = await info.context.resources.incidents.get_many(major.children_ids(current))
            if current.parent_id is None or input.to is not IncidentStatus.RESOLVED:
                return await apply_command(
                    info, input.id, major.guarded(command, children, input.to),
                    input.expected_version,
                )  # fmt: skip
            # A child's resolution is an event on its major incident, in one transaction.
            now, actor = clock.now(), info.context.principal.actor
            expected = input.expected_version

            def both(
                child: domain.Incident, parent: domain.Incident
            ) -> tuple[domain.Change, domain.Change]:
                if expected is not None and expected != child.version:
                    raise conflict(expected, child.version)
                change = command(child, now, actor)
                return change, major.child_resolved(parent, change.incident, now=now, actor=actor)

            # The caller sees the child (read above); the parent gets its event whoever may
            # read it, so the raw store, not the caller's view of it.
            child, _ = await info.context.resources.incidents.apply_together(
                current.id, current.parent_id, both, ("id", "id")
            )
            return child.incident

        return await incident_payload(work)

    @strawberry.mutation(
        description="Add an internal note to the timeline.", permission_classes=[IsResponder]
    )
    async def add_note(self, info: Info, input: AddNoteInput) -> IncidentPayload:
        return await incident_payload(
            lambda: apply_command(
                info,
                input.id,
                lambda i, now, actor: domain.add_note(
                    i,
                    input.body,
                    now=now,
                    actor=actor,
                    occurred_at=input.occurred_at,
                    backdate_window=info.context.settings.backdate_window,
                ),
            )
        )

    @strawberry.mutation(
        description="Post a status update; PUBLIC ones appear on the status page.",
        permission_classes=[IsResponder],
    )
    async def post_update(self, info: Info, input: PostUpdateInput) -> IncidentPayload:
        return await incident_payload(
            lambda: apply_command(
                info,
                input.id,
                lambda i, now, actor: domain.post_update(
                    i, input.body, input.visibility, now=now, actor=actor
                ),
            )
        )

    @strawberry.mutation(description="Assign a response role.", permission_classes=[IsResponder])
    async def assign_role(self, info: Info, input: AssignRoleInput) -> IncidentPayload:
        return await incident_payload(
            lambda: apply_command(
                info,
                input.id,
                lambda i, now, actor: domain.assign_role(
                    i, input.role, input.user, now=now, actor=actor
                ),
            )
        )

    @strawberry.mutation(description="Remove a response role.", permission_classes=[IsResponder])
    async def unassign_role(self, info: Info, input: UnassignRoleInput) -> IncidentPayload:
        return await incident_payload(
            lambda: apply_command(
                info,
                input.id,
                lambda i, now, actor: domain.unassign_role(
                    i, input.role, input.user, now=now, actor=actor
                ),
            )
        )

    @strawberry.mutation(description="Record the root cause.", permission_classes=[IsResponder])
    async def set_root_cause(self, info: Info, input: SetRootCauseInput) -> IncidentPayload:
        return await incident_payload(
            lambda: apply_command(
                info,
                input.id,
                lambda i, now, actor: domain.set_root_cause(
                    i, input.root_cause, now=now, actor=actor
                ),
            )
        )

    @strawberry.mutation(
        description="Link an incident to a related one, or mark it a duplicate of another.",
        permission_classes=[IsResponder],
    )
    async def link_incidents(self, info: Info, input: LinkIncidentsInput) -> IncidentPayload:
        async def work() -> domain.Incident:
            if input.kind is LinkKind.PARENT_OF:
                now, actor = clock.now(), info.context.principal.actor
                parent, _ = await info.context.incidents.apply_together(
                    object_id(input.id),
                    object_id(input.related_id, "relatedId"),
                    lambda p, c: major.adopt(p, c, now=now, actor=actor),
                )
                return parent.incident
            other = await info.context.incidents.get(object_id(input.related_id, "relatedId"))
            if other is None:
                raise not_found("related incident", "relatedId")
            return await apply_command(
                info,
                input.id,
                lambda i, now, actor: domain.link(i, other, input.kind, now=now, actor=actor),
            )

        return await incident_payload(work)
