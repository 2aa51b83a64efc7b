"""GraphQL types of API keys and of the caller's identity."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from incident_service.api.common import UserError
from incident_service.domain import apikeys as domain


@strawberry.enum(description="A role that can be granted; each includes the ones before it.")
class AccessRole(Enum):
    VIEWER = "VIEWER"
    RESPONDER = "RESPONDER"
    ADMIN = "ADMIN"


@strawberry.type(description="An API key. Its secret is shown once, at creation, and never again.")
class ApiKey:
    id: strawberry.ID = strawberry.field(description="Opaque id; pass it to revokeApiKey.")
    name: str = strawberry.field(
        description="Unique among active keys; shown as the `actorName` of what the key did "
        "(its actor id is key:<id>)."
    )
    role: AccessRole = strawberry.field(description="What the key may do.")
    prefix: str = strawberry.field(
        description="The first characters of the secret, to recognise a key; not a credential."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    created_by: str = strawberry.field(description="Actor who created it.")
    last_used_at: datetime | None = strawberry.field(
        description="Last successful use; written at most once a minute (API_KEY_TOUCH_INTERVAL)."
    )
    revoked_at: datetime | None = strawberry.field(
        description="When it was revoked; a revoked key authenticates nothing."
    )
    revoked_by: str | None = strawberry.field(description="Actor who revoked it.")

    @classmethod
    def from_domain(cls, key: domain.ApiKey) -> ApiKey:
        return cls(
            id=strawberry.ID(key.id),
            name=key.name,
            role=AccessRole[key.role.name],
            prefix=key.prefix,
            created_at=key.created_at,
            created_by=key.created_by,
            last_used_at=key.last_used_at,
            revoked_at=key.revoked_at,
            revoked_by=key.revoked_by,
        )


@strawberry.type(description="Result of createApiKey.")
class CreateApiKeyPayload:
    api_key: ApiKey | None = strawberry.field(description="The new key, without its secret.")
    secret: str | None = strawberry.field(
        description="The key itself, for `Authorization: Bearer <secret>`. Shown only now."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Expected failures; when non-empty nothing was written."
    )

    @classmethod
    def ok(cls, created: tuple[domain.ApiKey, str]) -> CreateApiKeyPayload:
        key, secret = created
        return cls(api_key=ApiKey.from_domain(key), secret=secret, user_errors=[])

    @classmethod
    def failed(cls, errors: list[UserError]) -> CreateApiKeyPayload:
        return cls(api_key=None, secret=None, user_errors=errors)


@strawberry.type(description="Result of revokeApiKey.")
class ApiKeyPayload:
    api_key: ApiKey | None = strawberry.field(description="The key after the change.")
    user_errors: list[UserError] = strawberry.field(
        description="Expected failures; when non-empty nothing was written."
    )

    @classmethod
    def ok(cls, key: domain.ApiKey) -> ApiKeyPayload:
        return cls(api_key=ApiKey.from_domain(key), user_errors=[])

    @classmethod
    def failed(cls, errors: list[UserError]) -> ApiKeyPayload:
        return cls(api_key=None, user_errors=errors)


@strawberry.input(description="Create an API key.")
class CreateApiKeyInput:
    name: str = strawberry.field(description="1..100 characters; unique among active keys.")
    role: AccessRole = strawberry.field(description="What the key may do.")


@strawberry.input(description="Revoke an API key; it stops working at once.")
class RevokeApiKeyInput:
    id: strawberry.ID = strawberry.field(description="The key's id (not its secret).")


@strawberry.type(description="Who the caller is, as the service sees it.")
class Caller:
    name: str = strawberry.field(
        description="For reading: the key's name, or the user's preferred_username (else "
        "name, email, sub) from their token. Not unique; decides nothing."
    )
    role: AccessRole = strawberry.field(description="The caller's role.")
    kind: str = strawberry.field(description="api_key, user or integration.")
    actor: str = strawberry.field(
        description="The caller's actor id, as the timeline records their actions and as "
        "role holders and restricted incidents' participants name them: key:<key id>, "
        "oidc:<issuer host>/<sub> or integration:<name>. No two identities share one."
    )


@strawberry.type(description="An actor id and the name to show for it.")
class Actor:
    id: str = strawberry.field(description="The actor id, as given.")
    name: str = strawberry.field(
        description="The API key's or integration's name, or the user's name as they last "
        "signed in; the id itself when no name is known. Anyone may choose a name like "
        "another's: show `kind` beside it."
    )
    kind: str = strawberry.field(
        description="api_key, user or integration, from the id; unknown for a name recorded "
        "before actor ids, or for anonymous and system actions."
    )
