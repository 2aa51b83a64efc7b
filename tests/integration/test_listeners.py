"""Nobody to notify, no outbox message (store/listeners.py): and none lost once somebody is.

Two replicas on a database of their own: changes made while no webhook
endpoint or email subscriber exists write no outbox message; an endpoint
created on one replica gets the very next change made on the other. Below
the API, the flag's start-up stock-taking and its conservative default.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from incident_service.domain.notifications import Message
from incident_service.store.database import Database
from incident_service.store.jobs import JobStore, new_job
from incident_service.store.listeners import COUNTER, FIELD, Listeners, flag_in
from incident_service.store.outbox import Outbox
from tests.support.api import declare, mutate, post_update
from tests.support.polling import wait_for
from tests.support.processes import GraphQLClient
from tests.support.receiver import Receiver, receiving
from tests.support.replicas import Replicas, two_replicas

CREATE = """mutation($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { endpoint { id } secret userErrors { message } }
}"""
EVENTS = ["incident.declared", "incident.update_posted"]


@pytest.fixture
def replicas(mongo_uri: str, tmp_path: Path) -> Iterator[Replicas]:
    with two_replicas(mongo_uri, tmp_path, "listeners", JOBS_POLL_INTERVAL="0.2") as made:
        yield made


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as r:
        yield r


def test_nothing_is_written_for_nobody_and_nothing_lost_once_somebody_listens(
    replicas: Replicas, receiver: Receiver, mongo_uri: str
) -> None:
    a, b, database = replicas
    api_a, api_b = GraphQLClient(a.url), GraphQLClient(b.url)
    before = declare(api_b, title="Nobody listens yet")
    post_update(api_b, before["id"], "Looking into it", visibility="PUBLIC")
    with MongoClient(mongo_uri) as client:
        db = client[database]
        assert db.outbox.count_documents({}) == 0
        assert db.jobs.count_documents({"kind": "outbox"}) == 0
        # The SLA timer is not an outbound message: it is written as before.
        assert db.jobs.count_documents({"kind": "sla", "ref": before["id"]}) == 1

    # An endpoint created on A; B, which saw nobody listening, makes the next changes.
    result = mutate(api_a, CREATE, url=receiver.url(), eventTypes=EVENTS)
    assert result["userErrors"] == []
    after = declare(api_b, title="Somebody listens now")
    post_update(api_b, before["id"], "Found it", visibility="PUBLIC")

    def received() -> list[tuple[str, str]]:
        bodies = [r.verified(result["secret"]) for r in receiver.at("/hook")]
        return sorted((body["type"], body["data"]["incident"]["id"]) for body in bodies)

    expected = sorted(
        [("incident.declared", after["id"]), ("incident.update_posted", before["id"])]
    )
    wait_for(lambda: received() == expected, 20, message=lambda: f"received {received()}")


def test_an_email_subscriber_is_somebody_too(replicas: Replicas, mongo_uri: str) -> None:
    a, b, database = replicas
    reply = GraphQLClient(a.url).post(
        """mutation($input: SubscribeToStatusPageInput!) {
          subscribeToStatusPage(input: $input) { accepted } }""",
        {"input": {"email": "someone@example.com"}},
    )
    assert reply.json()["data"]["subscribeToStatusPage"]["accepted"]
    declared = declare(GraphQLClient(b.url), title="A subscriber may hear of this")
    with MongoClient(mongo_uri) as client:
        messages = list(client[database].outbox.find({"type": "incident.declared"}))
    assert [m["data"]["incident"]["id"] for m in messages] == [declared["id"]]


# --- below the API ------------------------------------------------------------------


@contextlib.asynccontextmanager
async def _database(mongo_uri: str) -> AsyncIterator[Database]:
    """A database of its own, dropped afterwards."""
    name = f"listeners_{uuid.uuid4().hex[:8]}"
    db = Database(mongo_uri, name)
    await db.ensure_indexes()
    try:
        yield db
    finally:
        await db.client.drop_database(name)
        await db.close()


async def _may_exist(listeners: Listeners, db: Database) -> bool:
    async with db.client.start_session() as session, await session.start_transaction():
        return await listeners.may_exist(session)


def test_start_up_takes_stock_of_what_is_stored(mongo_uri: str) -> None:
    async def scenario() -> None:
        async with _database(mongo_uri) as db:
            await Listeners(db).take_stock()
            assert not await _may_exist(Listeners(db), db)

            # An endpoint written without the flag (by a replica of an earlier version
            # during a rolling update): the next start finds it.
            await db.webhook_endpoints.insert_one({"_id": "e1", "enabled": True})
            assert flag_in(await db.counters.find_one(COUNTER)) is False
            await Listeners(db).take_stock()
            assert flag_in(await db.counters.find_one(COUNTER)) is True
            assert await _may_exist(Listeners(db), db)

            # A flag once set is never cleared, endpoints or not.
            await db.webhook_endpoints.delete_many({})
            await Listeners(db).take_stock()
            assert await _may_exist(Listeners(db), db)

    asyncio.run(scenario())


def test_a_running_replica_finds_an_endpoint_written_without_the_flag(mongo_uri: str) -> None:
    async def scenario() -> None:
        async with _database(mongo_uri) as db:
            await Listeners(db).take_stock()
            replica = Listeners(db, audit_seconds=0.5)
            assert not await _may_exist(replica, db)  # its first look at what is stored
            await db.subscribers.insert_one({"_id": "s1", "email": "old@example.com"})
            assert not await _may_exist(replica, db)  # not looked at again yet
            await asyncio.sleep(0.6)
            assert await _may_exist(replica, db)
            # ...and set the flag for every other replica.
            assert await _may_exist(Listeners(db, audit_seconds=3600), db)

    asyncio.run(scenario())


def test_no_flag_reads_as_somebody_and_a_replica_sees_another_set_it(mongo_uri: str) -> None:
    async def scenario() -> None:
        async with _database(mongo_uri) as db:
            believer = Listeners(db)
            assert await _may_exist(believer, db)  # no flag: conservative

            replica_a, replica_b = Listeners(db), Listeners(db, audit_seconds=3600)
            await replica_a.take_stock()
            assert not await _may_exist(replica_b, db)
            # A replica that read "no flag" earlier still writes it when an endpoint
            # arrives through it.
            await believer.arriving()
            assert await _may_exist(replica_b, db)

    asyncio.run(scenario())


def test_the_outbox_writes_no_message_for_nobody_but_the_callers_jobs(mongo_uri: str) -> None:
    now = datetime.now(UTC)
    message = Message("incident.declared", now, {})

    async def scenario() -> None:
        async with _database(mongo_uri) as db:
            await db.counters.update_one(COUNTER, {"$set": {FIELD: False}}, upsert=True)
            outbox = Outbox(db, JobStore(db), listeners=Listeners(db))

            async def record(**kwargs: Any) -> list[str]:
                async with db.client.start_session() as session, await session.start_transaction():
                    return await outbox.record([message], session, **kwargs)

            assert await record(jobs=[new_job("sla:i1", "sla", "i1", now)]) == []
            assert await db.outbox.count_documents({}) == 0
            assert [j["_id"] for j in await db.jobs.find().to_list()] == ["sla:i1"]
            # A message to one endpoint (a test webhook) is always written.
            assert len(await record(target="e1")) == 1
            assert await db.outbox.count_documents({"target": "e1"}) == 1

    asyncio.run(scenario())
