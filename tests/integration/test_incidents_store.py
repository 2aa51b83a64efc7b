"""The incident store against the real database, where the API cannot reach a case."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from pymongo.errors import DuplicateKeyError

from incident_service.domain import sla
from incident_service.domain.incident import Declaration
from incident_service.domain.priority import DEFAULT_SLA
from incident_service.store.components import ComponentStatuses
from incident_service.store.database import Database
from incident_service.store.incidents import IncidentStore
from incident_service.store.jobs import JobStore
from incident_service.store.outbox import Outbox

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


def test_a_number_clash_without_a_key_never_answers_with_another_incident(
    mongo_uri: str,
) -> None:
    """A duplicate-key error on a declaration without an idempotency key once looked the
    key up as null, and answered with an unrelated incident."""

    async def scenario() -> None:
        db = Database(mongo_uri, f"store_{uuid.uuid4().hex[:8]}")
        await db.ensure_indexes()
        jobs = JobStore(db)
        outbox = Outbox(db, jobs)
        policy = sla.Policy({p.value: t for p, t in DEFAULT_SLA.items()}, 0.8)
        incidents = IncidentStore(db, ComponentStatuses(db, outbox), outbox, jobs, policy)
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
