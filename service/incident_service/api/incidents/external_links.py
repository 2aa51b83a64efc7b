"""Links from an incident to runbooks, tickets, dashboards and evidence, over GraphQL."""

from __future__ import annotations

from datetime import datetime

import strawberry
from bson import ObjectId

from incident_service.api.context import Info
from incident_service.api.incidents.mutations import apply_command, incident_payload
from incident_service.api.incidents.types import IncidentPayload
from incident_service.api.permissions import IsResponder
from incident_service.domain import external_links as domain_links
from incident_service.domain import incident as domain
from incident_service.domain.errors import validation as invalid
from incident_service.domain.external_links import ExternalLinkKind
from incident_service.domain.validation import object_id

strawberry.enum(
    ExternalLinkKind,
    description="What a link points to: RUNBOOK, TICKET, PULL_REQUEST, DASHBOARD, EVIDENCE "
    "(where forensic material is kept), CHAT (the incident channel) or OTHER.",
)


@strawberry.type(description="A link from an incident to something outside. Internal.")
class ExternalLink:
    id: strawberry.ID = strawberry.field(description="Stable id: `<incidentId>:<link>`.")
    url: str = strawberry.field(description="An http or https URL.")
    title: str = strawberry.field(description="What it is (the URL when none was given).")
    kind: ExternalLinkKind = strawberry.field(description="What it points to.")
    added_at: datetime = strawberry.field(description="When it was added.")
    added_by: str = strawberry.field(description="Who added it.")

    @classmethod
    def from_domain(cls, x: domain_links.ExternalLink) -> ExternalLink:
        return cls(
            id=strawberry.ID(x.id), url=x.url, title=x.title, kind=x.kind,
            added_at=x.added_at, added_by=x.added_by,
        )  # fmt: skip


@strawberry.input(description="A link to add to an incident.")
class AddLinkInput:
    incident_id: strawberry.ID = strawberry.field(description="The incident.")
    url: str = strawberry.field(description="An http or https URL, at most 2048 characters.")
    title: str | None = strawberry.field(default=None, description="What it is.")
    kind: ExternalLinkKind = strawberry.field(
        default=ExternalLinkKind.OTHER, description="What it points to."
    )


@strawberry.input(description="A link to remove from its incident.")
class RemoveLinkInput:
    id: strawberry.ID = strawberry.field(description="The link (its id names its incident).")


@strawberry.type
class ExternalLinkMutations:
    @strawberry.mutation(
        description="Link an incident to a runbook, ticket, pull request, dashboard, evidence "
        "or chat (a LINK_ADDED event); adding the same URL and kind again changes nothing.",
        permission_classes=[IsResponder],
    )
    async def add_link(self, info: Info, input: AddLinkInput) -> IncidentPayload:
        async def work() -> domain.Incident:
            link_id = f"{object_id(input.incident_id, 'incidentId')}:{ObjectId()}"
            return await apply_command(
                info,
                input.incident_id,
                lambda i, now, actor: domain_links.add_link(
                    i, link_id, input.url, input.title, input.kind, now=now, actor=actor
                ),
            )

        return await incident_payload(work)

    @strawberry.mutation(
        description="Remove a link from its incident (a LINK_REMOVED event).",
        permission_classes=[IsResponder],
    )
    async def remove_link(self, info: Info, input: RemoveLinkInput) -> IncidentPayload:
        async def work() -> domain.Incident:
            return await apply_command(
                info,
                incident_of(str(input.id)),
                lambda i, now, actor: domain_links.remove_link(
                    i, str(input.id), now=now, actor=actor
                ),
            )

        return await incident_payload(work)


def incident_of(item_id: str) -> str:
    """The incident an item id (`<incidentId>:<item>`, a task or a link) names;
    VALIDATION on `id` when it is not such an id."""
    incident_id, sep, rest = item_id.partition(":")
    if not sep or not ObjectId.is_valid(rest):
        raise invalid("id", f"{item_id[:60]!r} is not a valid id")
    return object_id(incident_id, "id")
