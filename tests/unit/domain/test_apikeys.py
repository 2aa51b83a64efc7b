"""API keys as values: minting, hashing, names, roles, lastUsedAt throttling."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from incident_service.domain import apikeys as domain
from incident_service.domain.errors import DomainError
from incident_service.domain.principal import Principal, Role

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def test_minted_keys_are_random_prefixed_and_hashed_with_sha256() -> None:
    key, secret = domain.new_key(" ci bot ", Role.VIEWER, key_id="k1", now=NOW, actor="key:admin")
    other = domain.mint_secret()
    assert secret.startswith("isk_") and other.startswith("isk_") and secret != other
    assert len(secret) >= 4 + 43  # 32 random bytes, base64url
    assert key.name == "ci bot" and key.prefix == secret[: domain.SHOWN_CHARS]
    assert domain.hash_secret(secret) == hashlib.sha256(secret.encode()).hexdigest()
    assert key.principal() == Principal("ci bot", Role.VIEWER, "api_key", subject="k1")
    assert key.principal().actor == "key:k1"


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "bad\nname", "nul\x00"])
def test_bad_key_names(name: str) -> None:
    with pytest.raises(DomainError) as err:
        domain.check_name(name)
    assert err.value.field == ("input", "name")


def test_anonymous_is_not_grantable() -> None:
    with pytest.raises(DomainError):
        domain.check_role(Role.ANONYMOUS)


def test_last_used_is_written_at_most_once_per_interval() -> None:
    assert domain.needs_touch(None, NOW, 60)
    assert not domain.needs_touch(NOW - timedelta(seconds=59), NOW, 60)
    assert domain.needs_touch(NOW - timedelta(seconds=60), NOW, 60)


def test_the_bootstrap_key_name_is_reserved() -> None:
    for name in ("admin", " Admin "):
        with pytest.raises(DomainError) as refused:
            domain.check_name(name)
        assert refused.value.field == ("input", "name")
    assert domain.check_name("admin-bot") == "admin-bot"
