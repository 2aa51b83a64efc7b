"""SLA breaches as events: written once at the moment, by one of several workers, pushed
live, sent to webhooks, and filterable."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from incident_service.domain.enums import Impact, IncidentCategory, Urgency
from incident_service.domain.incident import Declaration
from incident_service.jobs.worker import Worker
from incident_service.store.database import Database
from incident_service.store.incidents import SLA_KIND, IncidentStore
from incident_service.store.jobs import JobStore
from incident_service.store.outbox import KIND as OUTBOX
from tests.conftest import service_env
from tests.support.api import declare, mutate
from tests.support.polling import wait_for
from tests.support.processes import ADMIN_KEY, GraphQLClient, ServiceProcess
from tests.support.receiver import receiving
from tests.support.stores import stores
from tests.support.websocket import WsClient

T0 = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


async def _stores(
    mongo_uri: str, clock: list[datetime]
) -> tuple[Database, JobStore, IncidentStore, list[Worker]]:
    """The stores on a database of their own, and three job workers whose time is
    `clock[0]`."""
    made = await stores(mongo_uri, "sla")
    db, jobs, outbox, incidents = made.db, made.jobs, made.outbox, made.incidents
    workers = [
        Worker(
            jobs,
            {SLA_KIND: incidents.check_sla, OUTBOX: outbox.fan_out},
            now=lambda: clock[0],
            poll_interval=1,
            lease=30,
        )
        for _ in range(3)
    ]
    return db, jobs, incidents, workers


def test_a_p1_left_alone_breaches_once_at_five_minutes_whatever_the_workers(
    mongo_uri: str,
) -> None:
    clock = [T0]

    async def scenario() -> None:
        db, jobs, incidents, workers = await _stores(mongo_uri, clock)

        async def all_tick() -> None:
            await asyncio.gather(*(w.tick() for w in workers), *(w.tick() for w in workers))

        async def sla_events() -> list[tuple[str, str]]:
            docs = await db.incident_events.find({"type": {"$regex": "^SLA_"}}).to_list()
            return [(d["type"], d["data"]["target"]) for d in sorted(docs, key=lambda d: d["seq"])]

        try:
            incident, _ = await incidents.declare(
                Declaration(
                    title="Nobody is looking",
                    category=IncidentCategory.OUTAGE,
                    impact=Impact.HIGH,
                    urgency=Urgency.HIGH,
                ),
                now=T0,
                actor="t",
            )
            clock[0] = T0 + 3 * MIN
            await all_tick()
            assert await sla_events() == []
            clock[0] = T0 + 4 * MIN
            await all_tick()
            assert await sla_events() == [("SLA_AT_RISK", "ACKNOWLEDGE")]
            clock[0] = T0 + 5 * MIN
            await all_tick()
            await all_tick()
            assert await sla_events() == [
                ("SLA_AT_RISK", "ACKNOWLEDGE"),
                ("SLA_BREACHED", "ACKNOWLEDGE"),
            ]
            breach = await db.incident_events.find_one({"type": "SLA_BREACHED"})
            assert breach is not None and breach["at"] == T0 + 5 * MIN
            assert breach["data"] == {
                "target": "ACKNOWLEDGE",
                "dueAt": "2026-07-01T09:05:00Z",
                "priority": "P1",
            }
            stored = await incidents.get(incident.id)
            assert stored is not None and stored.sla_breached
            assert stored.sla_due_at == T0 + timedelta(hours=4)
            # One outbox message for the breach, for webhooks.
            sent = await db.outbox.count_documents({"type": "incident.sla_breached"})
            assert sent == 1
            job = await jobs.get(f"{SLA_KIND}:{incident.id}")
            assert job is not None and job["dueAt"] == T0 + timedelta(hours=4) * 0.8
        finally:
            await db.client.drop_database(db.db.name)

    asyncio.run(scenario())


def test_a_restricted_incident_gets_its_sla_timer_though_it_notifies_nobody(
    mongo_uri: str,
) -> None:
    # A restricted declaration writes no outbox message: its SLA job is the only job
    # its transaction inserts.
    clock = [T0]

    async def scenario() -> None:
        db, jobs, incidents, workers = await _stores(mongo_uri, clock)
        try:
            incident, _ = await incidents.declare(
                Declaration(
                    title="Quietly on fire",
                    impact=Impact.HIGH,
                    urgency=Urgency.HIGH,
                    restricted=True,
                ),
                now=T0,
                actor="t",
            )
            assert await db.outbox.count_documents({}) == 0
            job = await jobs.get(f"{SLA_KIND}:{incident.id}")
            assert job is not None and job["dueAt"] == T0 + 4 * MIN
            clock[0] = T0 + 5 * MIN
            for _ in range(2):
                await asyncio.gather(*(w.tick() for w in workers))
            breached = await db.incident_events.count_documents(
                {"incidentId": incident.id, "type": "SLA_BREACHED"}
            )
            assert breached == 1
        finally:
            await db.client.drop_database(db.db.name)

    asyncio.run(scenario())


# --- live, on a real service with a two-second P1 target ----------------------------------


@pytest.fixture(scope="module")
def fast_sla(mongo_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    env = service_env(
        mongo_uri,
        f"fastsla_{uuid.uuid4().hex[:8]}",
        SLA_P1_ACK="2",
        SLA_P1_RESOLVE="3600",
        JOBS_POLL_INTERVAL="0.2",
    )
    log = Path(tmp_path_factory.mktemp("sla")) / "service.log"
    proc = ServiceProcess(env, log_path=log).start()
    try:
        yield proc
    finally:
        proc.stop()


EVENTS = "subscription($id: ID!) { incidentEvents(incidentId: $id) { type actor data } }"
CREATE_HOOK = """mutation($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { secret userErrors { message } }
}"""
BREACHED = """query($filter: IncidentFilter) {
  incidents(filter: $filter, first: 100) { edges { node { key } } }
}"""


def keys(api: GraphQLClient, **filter: object) -> set[str]:
    data = api(BREACHED, {"filter": filter})
    return {e["node"]["key"] for e in data["incidents"]["edges"]}


def test_the_breach_is_pushed_live_sent_to_webhooks_and_filterable(
    fast_sla: ServiceProcess,
) -> None:
    api = GraphQLClient(fast_sla.url)
    with receiving() as receiver:
        hook = mutate(
            api, CREATE_HOOK, url=receiver.url("/sla"), eventTypes=["incident.sla_breached"]
        )
        assert hook["userErrors"] == []
        p2 = declare(api, title="Slower", impact="HIGH", urgency="MEDIUM")
        with WsClient(fast_sla.ws_url) as ws:
            ws.init(ADMIN_KEY)
            incident = declare(api, title="Unwatched", impact="HIGH", urgency="HIGH")
            ws.subscribe("1", EVENTS, {"id": incident["id"]})
            seen: list[dict[str, object]] = []
            while not any(e["type"] == "SLA_BREACHED" for e in seen):
                seen.append(ws.next_data("1", timeout=15)["incidentEvents"])
        sla_seen = [(e["type"], e["actor"]) for e in seen if str(e["type"]).startswith("SLA_")]
        assert sla_seen == [("SLA_AT_RISK", "sla"), ("SLA_BREACHED", "sla")]
        wait_for(lambda: receiver.at("/sla"), 20)
        payload = receiver.at("/sla")[0].verified(hook["secret"])
        assert payload["type"] == "incident.sla_breached"
        assert payload["data"]["incident"]["key"] == incident["key"]
        assert payload["data"]["target"] == "ACKNOWLEDGE"

    assert incident["key"] in keys(api, slaBreached=True)
    assert incident["key"] not in keys(api, slaBreached=False)
    assert p2["key"] in keys(api, slaBreached=False)
    # The P2's acknowledgement is due 15 minutes after it was declared.
    now = datetime.now(UTC)
    assert p2["key"] in keys(api, slaDueBefore=(now + 16 * MIN).isoformat())
    assert p2["key"] not in keys(api, slaDueBefore=(now + 14 * MIN).isoformat())
