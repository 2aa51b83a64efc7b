"""Who is calling, as the rules see it: a principal with a role."""

from __future__ import annotations

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
        if self.kind == "api_key":
            return f"key:{self.name}"
        if self.kind == "integration":
            return f"integration:{self.name}"
        return self.name


ANONYMOUS = Principal("anonymous", Role.ANONYMOUS, "anonymous")
