"""Turning a bearer token into a principal: bootstrap admin key, stored API keys, OIDC."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from incident_service import clock
from incident_service.apikeys.domain import PREFIX, needs_touch
from incident_service.apikeys.store import ApiKeyStore
from incident_service.auth import Principal, match_admin_key
from incident_service.oidc import OidcVerifier, looks_like_jwt

log = logging.getLogger(__name__)


@dataclass
class Authenticator:
    admin_key: str
    keys: ApiKeyStore
    oidc: OidcVerifier | None
    touch_interval: float

    def __post_init__(self) -> None:
        self._touches: set[asyncio.Task[None]] = set()

    async def authenticate(self, token: str) -> Principal | None:
        """The principal a bearer token stands for, or None if it stands for nobody."""
        admin = match_admin_key(token, self.admin_key)
        if admin is not None:
            return admin
        if token.startswith(PREFIX) and len(token) <= 200:
            return await self._stored_key(token)
        if self.oidc is not None and looks_like_jwt(token) and len(token) <= 16_384:
            return self.oidc.verify(token)
        return None

    async def _stored_key(self, token: str) -> Principal | None:
        key = await self.keys.find_active(token)
        if key is None:
            return None
        now = clock.now()
        if needs_touch(key.last_used_at, now, self.touch_interval):
            # Off the request path: a slow write must not delay the caller.
            task = asyncio.create_task(self._touch(key.id, now))
            self._touches.add(task)
            task.add_done_callback(self._touches.discard)
        return key.principal()

    async def _touch(self, key_id: str, now: object) -> None:
        try:
            await self.keys.touch(key_id, now, self.touch_interval)  # type: ignore[arg-type]
        except Exception:
            log.warning("could not record lastUsedAt of API key %s", key_id, exc_info=True)
