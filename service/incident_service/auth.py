"""Who is calling: principals and roles. Resolving a principal from a request."""

from __future__ import annotations

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


def match_admin_key(token: str, admin_key: str) -> Principal | None:
    if admin_key and hmac.compare_digest(token.encode(), admin_key.encode()):
        return Principal("admin", Role.ADMIN, "api_key")
    return None
