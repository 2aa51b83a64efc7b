"""API keys (ADMIN only) and the caller's own identity."""

from __future__ import annotations

import strawberry

from incident_service import clock
from incident_service.api.access.types import (
    AccessRole,
    Actor,
    ApiKey,
    ApiKeyPayload,
    Caller,
    CreateApiKeyInput,
    CreateApiKeyPayload,
    RevokeApiKeyInput,
)
from incident_service.api.common import payload
from incident_service.api.context import Info
from incident_service.api.permissions import IsAdmin, IsViewer
from incident_service.domain import apikeys
from incident_service.domain.errors import validation
from incident_service.domain.principal import Role, actor_kind

ACTORS_MAX = 100


@strawberry.type
class AccessQueries:
    @strawberry.field(
        description="API keys, oldest first; secrets are never returned.",
        permission_classes=[IsAdmin],
    )
    async def api_keys(self, info: Info, include_revoked: bool = False) -> list[ApiKey]:
        keys = await info.context.api_keys.all(include_revoked)
        return [ApiKey.from_domain(k) for k in keys]

    @strawberry.field(
        description=f"The names of up to {ACTORS_MAX} actor ids (a timeline's actors, role "
        "holders, participants), in the order given.",
        permission_classes=[IsViewer],
    )
    async def actors(self, info: Info, ids: list[str]) -> list[Actor]:
        if len(ids) > ACTORS_MAX:
            raise validation("ids", f"ids takes at most {ACTORS_MAX} actor ids")
        names = await info.context.resources.actor_names.names(ids)
        return [Actor(id=i, name=n, kind=_kind(i)) for i, n in zip(ids, names, strict=True)]

    @strawberry.field(description="The caller's identity and role.", permission_classes=[IsViewer])
    def me(self, info: Info) -> Caller:
        p = info.context.principal
        return Caller(name=p.name, role=AccessRole[p.role.name], kind=p.kind, actor=p.actor)


@strawberry.type
class AccessMutations:
    @strawberry.mutation(
        description="Create an API key; the payload's `secret` is shown only this once.",
        permission_classes=[IsAdmin],
    )
    async def create_api_key(self, info: Info, input: CreateApiKeyInput) -> CreateApiKeyPayload:
        return await payload(
            lambda: info.context.api_keys.create(
                input.name,
                Role[input.role.value],
                now=clock.now(),
                actor=info.context.principal.actor,
            ),
            CreateApiKeyPayload.ok,
            CreateApiKeyPayload.failed,
        )

    @strawberry.mutation(
        description="Revoke an API key; requests with it fail from now on. Idempotent.",
        permission_classes=[IsAdmin],
    )
    async def revoke_api_key(self, info: Info, input: RevokeApiKeyInput) -> ApiKeyPayload:
        async def work() -> apikeys.ApiKey:
            revoked = await info.context.api_keys.revoke(
                input.id, clock.now(), info.context.principal.actor
            )
            # This replica at once; the others when the change stream tells them.
            info.context.resources.authenticator.forget_key(revoked.id)
            return revoked

        return await payload(
            work,
            ApiKeyPayload.ok,
            ApiKeyPayload.failed,
        )


def _kind(actor: str) -> str:
    parsed = actor_kind(actor)
    return parsed[0] if parsed else "unknown"
