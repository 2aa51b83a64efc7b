"""Who is calling: principals and roles. Resolving a principal from a request."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import IntEnum


class Role(IntEnum):
    """Ordered: each role may do everything the roles below it may."""

    ANONYMOUS = 0
    VIEWER = 1
    RESPONDER = 2
    ADMIN = 3


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role
    kind: str  # "anonymous" | "api_key" | "user" | "integration"

    @property
    def actor(self) -> str:
        """How this principal is named on the timeline."""
        return self.name if self.kind != "api_key" else f"key:{self.name}"


ANONYMOUS = Principal("anonymous", Role.ANONYMOUS, "anonymous")


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()


def match_admin_key(token: str, admin_key: str) -> Principal | None:
    """The bootstrap ADMIN principal when the token is ADMIN_API_KEY.

    Compared in constant time over fixed-length digests, so neither the
    content nor the length of the configured key leaks through timing.
    """
    if admin_key and hmac.compare_digest(_digest(token), _digest(admin_key)):
        return Principal("admin", Role.ADMIN, "api_key")
    return None
