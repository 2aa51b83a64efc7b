"""Who is calling: the one entry point from a request's credentials to a principal.

HTTP requests and both websocket subprotocols (at `connection_init`) go
through `Authenticator.principal_for`. A bearer token is, in this order, the
bootstrap ADMIN_API_KEY, a stored API key (`isk_...`), an integration's
routing key (`irk_...`, which reaches alert intake only) or an OIDC JWT; no
token means anonymous. Every caller is counted against its rate limit.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field, replace
from datetime import datetime

from cachetools import TTLCache

from incident_service import clock
from incident_service.access.oidc import OidcVerifier, looks_like_jwt
from incident_service.access.ratelimit import RateLimiter, Verdict
from incident_service.domain import integrations
from incident_service.domain.apikeys import BOOTSTRAP_NAME, PREFIX, ApiKey, digest, needs_touch
from incident_service.domain.integrations import Integration
from incident_service.domain.principal import ANONYMOUS, Principal, Role
from incident_service.store.actors import ActorNames
from incident_service.store.apikeys import ApiKeyStore
from incident_service.store.integrations import IntegrationStore

log = logging.getLogger(__name__)

#: Longer tokens are refused unread: no key is this long, and no sane JWT.
MAX_KEY_LENGTH = 200
MAX_JWT_LENGTH = 16_384
#: Routing keys remembered at once; past this the memory starts over.
MAX_CACHED_KEYS = 10_000


class Unauthenticated(Exception):
    """A credential was sent and it is not valid."""


class RateLimited(Exception):
    """The caller (key, user or IP) is over its request rate."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(
            f"Rate limit exceeded ({verdict.limit}); retry after {verdict.retry_after}s"
        )
        self.retry_after = verdict.retry_after


def bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def match_admin_key(token: str, admin_key: str) -> Principal | None:
    """The bootstrap ADMIN principal when the token is ADMIN_API_KEY.

    Compared in constant time over fixed-length digests, so neither the
    content nor the length of the configured key leaks through timing.
    """
    if admin_key and hmac.compare_digest(digest(token), digest(admin_key)):
        return Principal(BOOTSTRAP_NAME, Role.ADMIN, "api_key", subject=BOOTSTRAP_NAME)
    return None


@dataclass
class Authenticator:
    admin_key: str
    keys: ApiKeyStore
    integrations: IntegrationStore
    oidc: OidcVerifier | None
    touch_interval: float
    limiter: RateLimiter
    integration_cache_seconds: float = 0.0
    #: Where an OIDC user's display name is remembered (store/actors.py).
    names: ActorNames | None = None
    #: Seconds a stored API key is answered from memory; every replica forgets a key
    #: when its document changes (the change stream), so this bounds only a missed event.
    key_cache_seconds: float = 0.0
    _writes: set[asyncio.Task[None]] = field(default_factory=set, init=False)
    _integration_cache: TTLCache[bytes, Integration] = field(init=False)
    _key_cache: TTLCache[bytes, ApiKey] = field(init=False)
    #: Counts forgotten keys: a lookup that began before a revocation must not put the
    #: key it read back into memory.
    _forgotten: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        # A zero time keeps nothing (nothing is stored then); TTLCache needs a positive one.
        self._integration_cache = TTLCache(MAX_CACHED_KEYS, self.integration_cache_seconds or 1)
        self._key_cache = TTLCache(MAX_CACHED_KEYS, self.key_cache_seconds or 1)

    async def principal_for(self, authorization: str | None, client_ip: str) -> Principal:
        """Who is calling, within their rate limit.

        Anonymous and bad-credential requests count against the client IP
        (which also slows down guessing keys); the others against their key.
        Raises Unauthenticated for a credential that names nobody, and
        RateLimited over the limit.
        """
        token = bearer_token(authorization) if authorization else None
        principal = await self.authenticate(token) if token else None
        if principal is None:
            verdict = self.limiter.check_ip(client_ip)
            if not verdict.allowed:
                raise RateLimited(verdict)
            if authorization:
                raise Unauthenticated(
                    "Invalid credentials: the bearer token is not a valid API key or token"
                )
            return ANONYMOUS
        verdict = self.limiter.check_principal(principal)
        if not verdict.allowed:
            raise RateLimited(verdict)
        return principal

    async def authenticate(self, token: str, *, fresh: bool = False) -> Principal | None:
        """The principal a bearer token stands for, or None if it stands for nobody;
        `fresh` asks the database, never the memory of keys."""
        admin = match_admin_key(token, self.admin_key)
        if admin is not None:
            return admin
        if token.startswith(PREFIX) and len(token) <= MAX_KEY_LENGTH:
            return await self._stored_key(token, fresh)
        if token.startswith(integrations.PREFIX):
            found = await self.integration_for(token)
            return found.principal() if found else None
        if self.oidc is not None and looks_like_jwt(token) and len(token) <= MAX_JWT_LENGTH:
            user = self.oidc.verify(token)
            if user is not None and self.names is not None and not self.names.recorded(user):
                # Not a task per request: only when the name is new to this process.
                self._in_background(self._remember(self.names, user))
            return user
        return None

    async def integration_for(self, key: str) -> Integration | None:
        """The enabled integration a routing key belongs to, or None.

        Found keys are remembered for `integration_cache_seconds`, so that a repeat in an
        alert storm costs one database write and no read. Rotating or disabling through
        this process forgets the key at once; other replicas within that time.
        """
        if not key.startswith(integrations.PREFIX) or len(key) > MAX_KEY_LENGTH:
            return None
        hashed = digest(key)
        cached = self._integration_cache.get(hashed)
        if cached is not None:
            return cached
        found = await self.integrations.find_active(key)
        if found is not None and self.integration_cache_seconds > 0:
            self._integration_cache[hashed] = found
        return found

    def forget_integration(self, integration_id: str) -> None:
        """Its key was rotated or it was disabled: stop answering from memory."""
        stale = [h for h, i in self._integration_cache.items() if i.id == integration_id]
        for hashed in stale:
            del self._integration_cache[hashed]

    def check_intake(self, integration: Integration) -> None:
        """Count one alert request against the integration's own rate; RateLimited over it."""
        verdict = self.limiter.check_integration(integration.id)
        if not verdict.allowed:
            raise RateLimited(verdict)

    def check_ip(self, client_ip: str) -> None:
        """Count a request that named nobody against its IP (slows down guessing keys)."""
        verdict = self.limiter.check_ip(client_ip)
        if not verdict.allowed:
            raise RateLimited(verdict)

    async def _stored_key(self, token: str, fresh: bool) -> Principal | None:
        hashed = digest(token)
        cached = None if fresh else self._key_cache.get(hashed)
        if cached is not None:
            key = cached
        else:
            forgotten = self._forgotten
            found = await self.keys.find_active(token)
            if found is None:
                self._key_cache.pop(hashed, None)
                return None
            key = found
            if self.key_cache_seconds > 0 and forgotten == self._forgotten:
                self._key_cache[hashed] = key
        now = clock.now()
        if needs_touch(key.last_used_at, now, self.touch_interval):
            self._in_background(self._touch(key.id, now))
            if hashed in self._key_cache:  # not again on the next request
                self._key_cache[hashed] = replace(key, last_used_at=now)
        return key.principal()

    def forget_key(self, key_id: str) -> None:
        """The key's document changed (revoked, or its use recorded): ask the database the
        next time it is used."""
        self._forgotten += 1
        stale = [h for h, k in self._key_cache.items() if k.id == key_id]
        for hashed in stale:
            del self._key_cache[hashed]

    def _in_background(self, write: Coroutine[None, None, None]) -> None:
        """Off the request path: a slow write must not delay the caller."""
        task = asyncio.create_task(write)
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _remember(self, names: ActorNames, user: Principal) -> None:
        try:
            await names.remember(user, clock.now())
        except Exception:
            log.warning("could not record the name of %s", user.actor, exc_info=True)

    async def _touch(self, key_id: str, now: datetime) -> None:
        try:
            await self.keys.touch(key_id, now, self.touch_interval)
        except Exception:
            log.warning("could not record lastUsedAt of API key %s", key_id, exc_info=True)
