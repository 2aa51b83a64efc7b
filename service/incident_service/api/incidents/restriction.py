"""Restricted incidents over GraphQL: restricting, lifting, participants."""

from __future__ import annotations

import strawberry

from incident_service.api.context import Info
from incident_service.api.incidents.mutations import apply_command, incident_payload
from incident_service.api.incidents.types import IncidentPayload
from incident_service.api.permissions import IsResponder
from incident_service.domain import restriction
from incident_service.domain.principal import Role


@strawberry.input(description="Restrict an incident to its participants, or lift that.")
class SetIncidentRestrictedInput:
    id: strawberry.ID = strawberry.field(description="The incident.")
    restricted: bool = strawberry.field(
        description="true: only its participants and ADMIN see it (ADMIN or its COMMANDER may "
        "set this); false: every signed-in user does (ADMIN only)."
    )


@strawberry.input(description="A person who may see a restricted incident.")
class ParticipantInput:
    id: strawberry.ID = strawberry.field(description="The incident.")
    actor: str = strawberry.field(
        description="Their actor id, as the timeline and `me` show it: key:<key id> for an API "
        "key, oidc:<issuer host>/<sub> for a signed-in user."
    )


@strawberry.type
class RestrictionMutations:
    @strawberry.mutation(
        description="Restrict an incident to its participants (declarer, role holders, added "
        "participants) and ADMIN, or lift the restriction. A restricted incident cannot be "
        "published on the status page.",
        permission_classes=[IsResponder],
    )
    async def set_incident_restricted(
        self, info: Info, input: SetIncidentRestrictedInput
    ) -> IncidentPayload:
        principal = info.context.principal
        return await incident_payload(
            lambda: apply_command(
                info,
                input.id,
                lambda i, now, actor: restriction.set_restricted(
                    i, input.restricted, principal, now=now
                ),
            )
        )

    @strawberry.mutation(
        description="Let someone see a restricted incident (a PARTICIPANT_ADDED event): by "
        "ADMIN or one of the people who see it already.",
        permission_classes=[IsResponder],
    )
    async def add_participant(self, info: Info, input: ParticipantInput) -> IncidentPayload:
        admin = info.context.principal.role >= Role.ADMIN
        return await incident_payload(
            lambda: apply_command(
                info,
                input.id,
                lambda i, now, actor: restriction.add_participant(
                    i, input.actor, now=now, actor=actor, admin=admin
                ),
            )
        )

    @strawberry.mutation(
        description="Take someone off the participants (role holders and the declarer still "
        "see it).",
        permission_classes=[IsResponder],
    )
    async def remove_participant(self, info: Info, input: ParticipantInput) -> IncidentPayload:
        return await incident_payload(
            lambda: apply_command(
                info,
                input.id,
                lambda i, now, actor: restriction.remove_participant(
                    i, input.actor.strip(), now=now, actor=actor
                ),
            )
        )
