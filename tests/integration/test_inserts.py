"""A transaction's new documents for several collections, written together
(store/inserts.py), on both paths: one `bulkWrite` and one insert per collection."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from incident_service.store.database import Database
from incident_service.store.inserts import Inserts
from incident_service.store.roundtrips import counting, stop_counting

BOTH_PATHS = pytest.mark.parametrize(
    "one_command", [True, False], ids=["bulkWrite", "per-collection"]
)


def _database(mongo_uri: str, one_command: bool | None) -> Database:
    return Database(mongo_uri, f"inserts_{uuid.uuid4().hex[:8]}", one_command)


def _three(db: Database, incident_id: str, job_id: str) -> Inserts:
    """An incident, its outbox message and a job: one document for each of three
    collections."""
    inserts = Inserts()
    inserts.add(db.incidents, [{"_id": incident_id, "number": hash(incident_id)}])
    inserts.add(db.outbox, [{"_id": f"msg_{incident_id}"}])
    inserts.add(db.jobs, [{"_id": job_id, "status": "PENDING"}])
    return inserts


async def _write_three(db: Database, incident_id: str, job_id: str) -> None:
    async def body(session: AsyncClientSession) -> None:
        await db.insert_together(_three(db, incident_id, job_id), session)

    await db.transaction(body)


async def _contents(db: Database) -> dict[str, list[str]]:
    return {
        name: sorted(d["_id"] for d in await db.collection(name).find().to_list())
        for name in ("incidents", "outbox", "jobs")
    }


@BOTH_PATHS
def test_every_document_is_written_and_a_taken_key_writes_none(
    mongo_uri: str, one_command: bool
) -> None:
    """The second transaction's last insert clashes: it writes none of its three, and
    the clash is a DuplicateKeyError (what callers catch) on both paths."""
    written = {"incidents": ["a"], "outbox": ["msg_a"], "jobs": ["job-a"]}

    async def scenario() -> None:
        db = _database(mongo_uri, one_command)
        try:
            await _write_three(db, "a", "job-a")
            assert await _contents(db) == written
            with pytest.raises(DuplicateKeyError):
                await _write_three(db, "b", "job-a")
            assert await _contents(db) == written
        finally:
            await db.close()

    asyncio.run(scenario())


@BOTH_PATHS
def test_transactions_retried_after_a_write_conflict_all_commit(
    mongo_uri: str, one_command: bool
) -> None:
    """Ten transactions insert first, then all write one counter document: they conflict
    and the driver runs them again. A retry once sent the one command with the first
    attempt's cluster time, which the embedded database refused."""

    async def scenario() -> None:
        db = _database(mongo_uri, one_command)

        async def body(session: AsyncClientSession, n: int) -> None:
            inserts = Inserts()
            inserts.add(db.incidents, [{"_id": f"i{n}", "number": n}])
            inserts.add(db.outbox, [{"_id": f"m{n}"}])
            await db.insert_together(inserts, session)
            await db.counters.update_one(
                {"_id": "c"}, {"$inc": {"n": 1}}, upsert=True, session=session
            )

        try:
            await db.counters.insert_one({"_id": "c", "n": 0})
            await asyncio.gather(*(db.transaction(lambda s, n=n: body(s, n)) for n in range(10)))
            counter = await db.counters.find_one({"_id": "c"})
            assert counter is not None and counter["n"] == 10
            assert await db.incidents.count_documents({}) == 10
            assert await db.outbox.count_documents({}) == 10
        finally:
            await db.close()

    asyncio.run(scenario())


@pytest.mark.parametrize(("one_command", "round_trips"), [(None, 1), (False, 3)])
def test_the_embedded_database_takes_the_inserts_in_one_round_trip(
    mongo_uri: str, one_command: bool | None, round_trips: int
) -> None:
    """Asked (None), the embedded database says it has `bulkWrite`: one round trip
    instead of one per collection."""

    async def scenario() -> None:
        db = _database(mongo_uri, one_command)
        try:
            await _write_three(db, "a", "job-a")  # the first asks the server
            box = counting()
            async with db.client.start_session() as session:
                await db.insert_together(_three(db, "b", "job-b"), session)
            stop_counting()
            assert box[0] == round_trips
            assert (await _contents(db))["jobs"] == ["job-a", "job-b"]
        finally:
            await db.close()

    asyncio.run(scenario())
