"""The incident store against the real database, where the API cannot reach a case."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.errors import DuplicateKeyError

from incident_service.domain.incident import Change, Declaration, Incident, add_note
from tests.support.stores import stores

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


def test_a_number_clash_without_a_key_never_answers_with_another_incident(
    mongo_uri: str,
) -> None:
    """A duplicate-key error on a declaration without an idempotency key once looked the
    key up as null, and answered with an unrelated incident."""

    async def scenario() -> None:
        made = await stores(mongo_uri, "store")
        db, incidents = made.db, made.incidents
        try:
            first, _ = await incidents.declare(Declaration(title="First"), now=NOW, actor="t")
            # A counter behind the incidents (a restore from an older backup, say).
            await db.counters.update_one({"_id": "incident"}, {"$inc": {"seq": -1}})
            with pytest.raises(DuplicateKeyError):
                await incidents.declare(Declaration(title="Second"), now=NOW, actor="t")
            assert await db.incidents.count_documents({}) == 1
            assert first.title == "First"
        finally:
            await db.close()

    asyncio.run(scenario())


def test_a_timeline_moved_beside_the_incident_is_not_a_conflict_of_versions(
    mongo_uri: str,
) -> None:
    """A postmortem or action item writes an event beside the incident without a new
    version. A change guarded by that version, whose event's seq it took meanwhile, is
    computed again, not refused as a CONFLICT between two equal versions."""

    async def scenario() -> None:
        made = await stores(mongo_uri, "store")
        db, incidents = made.db, made.incidents
        control: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
        beside = control[db.db.name]
        try:
            declared, _ = await incidents.declare(Declaration(title="Raced"), now=NOW, actor="t")
            raced: list[int] = []

            def note(incident: Incident) -> Change:
                if not raced:
                    # What `beside` writes, between the read and the write of this change.
                    seq = incident.last_seq + 1
                    first = beside.incident_events.find_one({"incidentId": incident.id})
                    assert first is not None
                    del first["_id"]
                    beside.incident_events.insert_one({**first, "seq": seq})
                    beside.incidents.update_one({"_id": incident.id}, {"$set": {"lastSeq": seq}})
                    raced.append(seq)
                return add_note(incident, "after the race", now=NOW, actor="t")

            change = await incidents.apply(declared.id, note, expected_version=declared.version)
            assert raced == [2]
            assert [e.seq for e in change.events] == [3]
            stored = [e.seq for e in await incidents.events(declared.id)]
            assert stored == [1, 2, 3]
        finally:
            control.close()
            await db.close()

    asyncio.run(scenario())
