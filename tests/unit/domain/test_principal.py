"""Actor ids: built from what a caller cannot choose, read back into their kind."""

from __future__ import annotations

import pytest

from incident_service.domain.principal import ANONYMOUS, Principal, Role, actor_kind


def test_each_kind_has_its_own_actor_id() -> None:
    assert Principal("ops", Role.VIEWER, "api_key", subject="65f1").actor == "key:65f1"
    assert Principal("alice", Role.VIEWER, "user", subject="idp/u1").actor == "oidc:idp/u1"
    assert Principal("am", Role.ANONYMOUS, "integration", subject="am").actor == "integration:am"
    assert ANONYMOUS.actor == "anonymous"
    with pytest.raises(ValueError, match="subject"):
        Principal("ops", Role.VIEWER, "api_key")


def test_an_actor_id_is_read_back_into_its_kind() -> None:
    assert actor_kind("key:65f1") == ("api_key", "65f1")
    assert actor_kind("oidc:idp.example.com/u1") == ("user", "idp.example.com/u1")
    assert actor_kind("integration:alertmanager") == ("integration", "alertmanager")
    # Names recorded before actor ids, and actions of no one in particular.
    for other in ("alice", "anonymous", "system", "key:", "user:key:alice"):
        assert actor_kind(other) is None
