"""API keys as values: minting a secret, hashing it, validating a key's name. No I/O.

Why a plain SHA-256 and not bcrypt/argon2: a key is 256 random bits, so
its hash cannot be brute-forced even when the database leaks; a slow KDF
only helps low-entropy passwords, and would cost tens of milliseconds on
every request. A deterministic hash also lets the store find the key by a
unique index instead of comparing against every stored key.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from incident_service.domain.errors import validation
from incident_service.domain.principal import Principal, Role

#: Every minted key starts with this, so scanners (and people) recognise one.
PREFIX = "isk_"
#: Characters of the secret kept in clear, to tell keys apart in a list.
SHOWN_CHARS = len(PREFIX) + 6
MAX_NAME = 100
#: The name and id of the bootstrap ADMIN_API_KEY (actor `key:admin`); stored keys have
#: ObjectId ids, so no stored key can take its actor id.
BOOTSTRAP_NAME = "admin"
GRANTABLE = (Role.VIEWER, Role.RESPONDER, Role.ADMIN)


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    role: Role
    prefix: str
    created_at: datetime
    created_by: str
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    revoked_by: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def principal(self) -> Principal:
        return Principal(self.name, self.role, "api_key", subject=self.id)


def mint_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def digest(secret: str) -> bytes:
    """SHA-256 of a secret; surrogates pass so that no client string can make it raise."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()


def hash_secret(secret: str) -> str:
    """The form a key is stored and looked up in."""
    return digest(secret).hex()


def check_name(name: str) -> str:
    """The name as stored: it names the key on the timeline, so keep it short and plain."""
    name = name.strip()
    if not name:
        raise validation("name", "name must not be empty")
    if len(name) > MAX_NAME:
        raise validation("name", f"name must be at most {MAX_NAME} characters")
    if not name.isprintable():
        raise validation("name", "name must not contain control characters")
    if name.casefold() == BOOTSTRAP_NAME:
        # The timeline (and restricted incidents' participants) name a key by it.
        raise validation("name", f"{name!r} is reserved for the ADMIN_API_KEY")
    return name


def check_role(role: Role) -> Role:
    if role not in GRANTABLE:
        raise validation("role", "role must be VIEWER, RESPONDER or ADMIN")
    return role


def new_key(name: str, role: Role, *, key_id: str, now: datetime, actor: str) -> tuple[ApiKey, str]:
    """A new key and its secret; the secret is returned once and never stored."""
    secret = mint_secret()
    key = ApiKey(
        id=key_id,
        name=check_name(name),
        role=check_role(role),
        prefix=secret[:SHOWN_CHARS],
        created_at=now,
        created_by=actor,
    )
    return key, secret


def needs_touch(last_used_at: datetime | None, now: datetime, interval: float) -> bool:
    """Whether lastUsedAt is stale enough to write again (writes are throttled)."""
    return last_used_at is None or now - last_used_at >= timedelta(seconds=interval)
