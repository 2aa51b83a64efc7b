"""Idempotency keys of declarations: scoped to the caller, bound to one declaration.

A retry (same caller, same key, same declaration) returns the incident the
first call made. The same key from another caller is another key: keys are
chosen by clients, and one caller's key must neither reveal nor return
another's incident. The same key with a different declaration is a
mistake worth an error (IDEMPOTENCY_KEY_REUSED), not the old incident.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

from incident_service.domain.enums import UserErrorCode
from incident_service.domain.errors import DomainError
from incident_service.domain.incident import Declaration


def scoped_key(actor: str, key: str) -> str:
    """The stored key: unambiguous for any actor id and key text."""
    return json.dumps([actor, key], ensure_ascii=False)


def fingerprint(cmd: Declaration) -> str:
    """A digest of everything the declaration asks for, its key aside."""
    fields = dataclasses.asdict(dataclasses.replace(cmd, idempotency_key=None))
    canonical = json.dumps(fields, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def reused() -> DomainError:
    return DomainError(
        UserErrorCode.IDEMPOTENCY_KEY_REUSED,
        "idempotencyKey was already used for a different declaration; a retry must send the "
        "same input, a new incident needs a new key",
        ("input", "idempotencyKey"),
    )
