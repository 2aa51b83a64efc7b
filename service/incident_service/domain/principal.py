"""Who is calling, as the rules see it: a principal with a role.

A principal has two names. Its `actor` id is what the timeline records and
what restricted incidents, role holders and rate limits compare: it is
built from something the identity cannot choose (a key's id, an OIDC
token's issuer and `sub`), so no two identities can share one. Its `name`
is for people to read (a key's name, a user's `preferred_username`) and
decides nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Role(IntEnum):
    """Ordered: each role may do everything the roles below it may."""

    ANONYMOUS = 0
    VIEWER = 1
    RESPONDER = 2
    ADMIN = 3


#: The prefix of each kind's actor ids.
ACTOR_PREFIXES = {
    "api_key": "key:",
    "user": "oidc:",
    "integration": "integration:",
}


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role
    kind: str  # "anonymous" | "api_key" | "user" | "integration"
    #: What the actor id is built from: a key's id, `<issuer-host>/<sub>` for an OIDC
    #: user, an integration's name.
    subject: str = ""

    def __post_init__(self) -> None:
        if self.kind in ACTOR_PREFIXES and not self.subject:
            raise ValueError(f"a {self.kind} principal needs the subject of its actor id")

    @property
    def actor(self) -> str:
        """How this principal is named on the timeline (its actor id)."""
        prefix = ACTOR_PREFIXES.get(self.kind)
        return f"{prefix}{self.subject}" if prefix else self.name


ANONYMOUS = Principal("anonymous", Role.ANONYMOUS, "anonymous")


def actor_kind(actor: str) -> tuple[str, str] | None:
    """(kind, subject) of an actor id, or None for one no principal has (a name recorded
    before actor ids, `anonymous`, `system`)."""
    for kind, prefix in ACTOR_PREFIXES.items():
        if actor.startswith(prefix) and len(actor) > len(prefix):
            return kind, actor[len(prefix) :]
    return None
