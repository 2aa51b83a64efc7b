"""Bearer tokens and the bootstrap admin key."""

from __future__ import annotations

import pytest

from incident_service.access.authenticator import bearer_token, match_admin_key
from incident_service.domain.principal import Principal, Role


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
