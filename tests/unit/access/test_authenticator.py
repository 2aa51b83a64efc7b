"""Bearer tokens and the bootstrap admin key."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from incident_service.access.authenticator import Authenticator, bearer_token, match_admin_key
from incident_service.access.ratelimit import RateLimiter
from incident_service.domain.apikeys import ApiKey
from incident_service.domain.principal import Principal, Role

NOW = datetime(2026, 11, 30, tzinfo=UTC)


def test_admin_key_match() -> None:
    assert match_admin_key("s3cret-key", "s3cret-key") == Principal(
        "admin", Role.ADMIN, "api_key", subject="admin"
    )
    assert match_admin_key("s3cret-kez", "s3cret-key") is None
    assert match_admin_key("s3cret-key-longer", "s3cret-key") is None
    assert match_admin_key("", "") is None  # no configured key matches nothing


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer   abc ", "abc"),
        ("Basic abc", None),
        ("Bearer", None),
        ("Bearer   ", None),
        ("", None),
        (None, None),
    ],
)
def test_bearer_token(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token


class _SlowKeys:
    """The key store's one read the authenticator makes, held until released."""

    def __init__(self, key: ApiKey) -> None:
        self.key: ApiKey | None = key
        self.reading = asyncio.Event()
        self.release = asyncio.Event()

    async def find_active(self, secret: str) -> ApiKey | None:
        found = self.key
        self.reading.set()
        await self.release.wait()
        return found


def test_a_lookup_begun_before_a_revocation_does_not_remember_the_key() -> None:
    async def run() -> None:
        key = ApiKey("k1", "ops", Role.VIEWER, "isk_abc", NOW, "key:admin", last_used_at=NOW)
        keys = _SlowKeys(key)
        auth = Authenticator(
            "",
            keys,
            None,
            None,
            3600,
            RateLimiter("", ""),
            key_cache_seconds=60,  # type: ignore[arg-type]
        )
        lookup = asyncio.create_task(auth.authenticate("isk_secret"))
        await keys.reading.wait()  # it read the key while it was active...
        keys.key = None  # ...then the key was revoked
        auth.forget_key("k1")
        keys.release.set()
        assert await lookup is not None  # that request was already under way
        keys.reading.clear()
        assert await auth.authenticate("isk_secret") is None  # the next one asks again

    asyncio.run(run())
