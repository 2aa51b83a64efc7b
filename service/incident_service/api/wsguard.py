"""What every websocket is held to, on both subprotocols.

Strawberry's modern handler (graphql-transport-ws) times out a missing
`connection_init` and refuses a second one; its legacy handler (graphql-ws)
does neither. Neither counts a socket, an operation or a frame against a
rate limit, and neither looks at a credential again once the socket is open.
Here, for both:

* opening a socket counts as a request against the client IP's limit, and
  one IP holds at most WS_MAX_CONNECTIONS_PER_IP open sockets;
* `connection_init` must come within WS_CONNECTION_INIT_TIMEOUT (4408), once
  (a second one: 4429);
* every frame counts against the connection's WS_MESSAGES_PER_MINUTE (4429),
  and every operation against the caller's own rate limit, as an HTTP
  request would (4429);
* a socket opened with a credential is closed (4403) when the credential
  stops being valid: at a token's `exp`, and within
  WS_CREDENTIAL_CHECK_SECONDS of a key's revocation (every replica checks
  its own sockets against the database), and on any operation sent after.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
from cachetools import TTLCache
from starlette.websockets import WebSocket, WebSocketState

from incident_service.access.authenticator import Authenticator
from incident_service.domain.principal import Principal

log = logging.getLogger(__name__)

TOO_MANY = 4429
INIT_TIMEOUT = 4408
FORBIDDEN = 4403
#: Frames that start an operation, on either subprotocol.
OPERATIONS = ("subscribe", "start")


@dataclass(frozen=True)
class SocketLimits:
    init_timeout: float
    messages_per_minute: int
    per_ip: int
    credential_check: float


class FrameBudget:
    """A token bucket of `per_minute` frames, refilled evenly: a burst of a minute's
    worth, then the steady rate."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._capacity = float(per_minute)
        self._rate = per_minute / 60.0
        self._tokens = self._capacity
        self._clock = clock
        self._at = clock()

    def take(self) -> bool:
        now = self._clock()
        self._tokens = min(self._capacity, self._tokens + (now - self._at) * self._rate)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


@dataclass(frozen=True)
class Refusal:
    code: int
    reason: str


@dataclass
class Credential:
    """The credential a socket was opened with, and who it named."""

    token: str
    principal: Principal
    #: A token's `exp` (epoch seconds); None for keys, which last until revoked.
    expires_at: float | None = None


def token_expiry(token: str) -> float | None:
    """The `exp` of a JWT already verified by the authenticator, or None."""
    try:
        claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    exp = claims.get("exp")
    return float(exp) if isinstance(exp, int | float) else None


class CredentialChecks:
    """Whether the credentials of open sockets are still valid, asked of the database at
    most once per check interval per credential by this process, however many sockets
    hold it (a key on 256 sockets costs one lookup per interval, not 256)."""

    def __init__(self, authenticator: Authenticator, interval: float) -> None:
        self._authenticator = authenticator
        self._known: TTLCache[bytes, bool] = TTLCache(maxsize=10_000, ttl=interval)

    async def valid(self, credential: Credential) -> bool:
        if credential.expires_at is not None and time.time() >= credential.expires_at:
            return False
        digest = hashlib.sha256(credential.token.encode()).digest()
        known = self._known.get(digest)
        if known is None:
            known = await self._authenticator.authenticate(credential.token, fresh=True) is not None
            self._known[digest] = known
        return known


@dataclass
class SocketGuard:
    """One connection's rules, fed every frame before Strawberry's handler sees it."""

    limits: SocketLimits
    authenticator: Authenticator
    checks: CredentialChecks
    websocket: WebSocket
    legacy: bool
    client_ip: str
    credential: Credential | None = None
    _budget: FrameBudget = field(init=False)
    _initialised: bool = field(default=False, init=False)
    _timer: asyncio.Task[None] | None = field(default=None, init=False)
    _watch: asyncio.Task[None] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self._budget = FrameBudget(self.limits.messages_per_minute)

    def start(self) -> None:
        if self.legacy:
            # The modern handler keeps its own timeout; the legacy one has none.
            self._timer = asyncio.create_task(self._init_deadline())

    def stop(self) -> None:
        for task in (self._timer, self._watch):
            if task is not None:
                task.cancel()

    def charge(self) -> Refusal | None:
        """Count one frame, before it is even decoded (a frame the legacy protocol
        ignores costs the same)."""
        if self._budget.take():
            return None
        return Refusal(
            TOO_MANY, f"Too many messages: at most {self.limits.messages_per_minute} a minute"
        )

    async def admit(self, message: dict[str, Any]) -> Refusal | None:
        """Why this decoded frame closes the connection, or None to pass it on."""
        kind = message["type"]
        if kind == "connection_init":
            if self._initialised:
                return Refusal(TOO_MANY, "Too many initialisation requests")
            self._initialised = True
            if self._timer is not None:
                self._timer.cancel()
        elif kind in OPERATIONS:
            return await self._operation()
        return None

    def opened_with(self, credential: Credential) -> None:
        """`connection_init` named someone: watch that the credential stays valid."""
        self.credential = credential
        self._watch = asyncio.create_task(self._watch_credential(credential))

    async def _operation(self) -> Refusal | None:
        credential = self.credential
        limiter = self.authenticator.limiter
        verdict = (
            limiter.check_principal(credential.principal)
            if credential is not None
            else limiter.check_ip(self.client_ip)
        )
        if not verdict.allowed:
            return Refusal(TOO_MANY, f"Rate limit exceeded: retry in {verdict.retry_after}s")
        if credential is not None and not await self.checks.valid(credential):
            return Refusal(FORBIDDEN, "Forbidden: the credential expired or was revoked")
        return None

    async def _init_deadline(self) -> None:
        await asyncio.sleep(self.limits.init_timeout)
        if not self._initialised:
            await self._close(Refusal(INIT_TIMEOUT, "Connection initialisation timeout"))

    async def _watch_credential(self, credential: Credential) -> None:
        while True:
            wait = self.limits.credential_check
            if credential.expires_at is not None:
                wait = min(wait, max(0.0, credential.expires_at - time.time()))
            await asyncio.sleep(wait)
            try:
                valid = await self.checks.valid(credential)
            except Exception as exc:  # the database is away: keep the socket, look again
                log.warning("websocket credential check failed, retrying: %r", exc)
                continue
            if not valid:
                await self._close(
                    Refusal(FORBIDDEN, "Forbidden: the credential expired or was revoked")
                )
                return

    async def _close(self, refusal: Refusal) -> None:
        if self.websocket.application_state is WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await self.websocket.close(code=refusal.code, reason=refusal.reason)
