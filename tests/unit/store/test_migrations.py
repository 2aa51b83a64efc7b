"""The actor-id migration's pure parts: which key a name goes to, and an incident rewritten."""

from __future__ import annotations

from datetime import UTC, datetime

from incident_service.store.migrations import key_actor_ids, renamed_incident


def _key(id: str, name: str, day: int, revoked: bool = False) -> dict[str, object]:
    at = datetime(2026, 11, day, tzinfo=UTC)
    return {"_id": id, "name": name, "createdAt": at, "revokedAt": at if revoked else None}


def test_a_shared_name_goes_to_the_active_key_else_the_newest() -> None:
    keys = [
        _key("a1", "ops", 1),
        _key("a0", "ops", 2, revoked=True),
        _key("b0", "old", 1, revoked=True),
        _key("b1", "old", 3, revoked=True),
    ]
    assert key_actor_ids(keys) == {"key:ops": "key:a1", "key:old": "key:b1"}


def test_the_bootstrap_keys_actor_is_left_alone() -> None:
    assert key_actor_ids([_key("x", "admin", 1, revoked=True)]) == {}


def test_every_actor_field_of_an_incident_is_rewritten_and_nothing_else() -> None:
    doc = {
        "declaredBy": "key:ops",
        "participants": ["key:ops", "alice"],
        "viewers": ["key:ops", "alice"],
        "roles": [{"role": "COMMANDER", "user": "key:ops", "assignedAt": 1}],
        "tasks": [{"title": "key:ops", "doneBy": "key:ops", "assignee": None}],
        "externalLinks": [{"url": "https://x", "addedBy": "key:ops"}],
        "title": "key:ops",
    }
    assert renamed_incident(doc, {"key:ops": "key:1"}) == {
        "declaredBy": "key:1",
        "participants": ["key:1", "alice"],
        "viewers": ["key:1", "alice"],
        "roles": [{"role": "COMMANDER", "user": "key:1", "assignedAt": 1}],
        "tasks": [{"title": "key:ops", "doneBy": "key:1", "assignee": None}],
        "externalLinks": [{"url": "https://x", "addedBy": "key:1"}],
    }
