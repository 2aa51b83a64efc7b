"""Idempotency keys: scoped per caller, bound to one declaration (pure)."""

from __future__ import annotations

from dataclasses import replace

from incident_service.domain.enums import Impact
from incident_service.domain.idempotency import fingerprint, scoped_key
from incident_service.domain.incident import Declaration


def test_scoped_keys_never_collide_across_callers() -> None:
    assert scoped_key("key:a", "b/c") != scoped_key("key:a/b", "c")
    assert scoped_key("user:x", "k") != scoped_key("key:x", "k")
    assert scoped_key("key:a", "k") == scoped_key("key:a", "k")


def test_the_fingerprint_is_the_declaration_without_its_key() -> None:
    cmd = Declaration(title="Disk full", labels=("db",))
    assert fingerprint(cmd) == fingerprint(replace(cmd, idempotency_key="retry-1"))
    assert fingerprint(cmd) == fingerprint(Declaration(title="Disk full", labels=["db"]))
    assert fingerprint(cmd) != fingerprint(replace(cmd, title="Disk full!"))
    assert fingerprint(cmd) != fingerprint(replace(cmd, impact=Impact.HIGH))
