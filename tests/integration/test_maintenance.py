"""Scheduled maintenance: windows start and end at their times by themselves, once across
replicas, and the status page follows live."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from incident_service.domain import maintenance
from incident_service.domain.enums import MaintenanceStatus
from incident_service.jobs.worker import Worker
from incident_service.store.components import ComponentStatuses
from incident_service.store.database import Database
from incident_service.store.jobs import JobStore
from incident_service.store.maintenances import KIND, MaintenanceStore
from incident_service.store.outbox import KIND as OUTBOX
from incident_service.store.outbox import Outbox
from incident_service.store.services import ServiceStore
from tests.support.api import create_service, mutate
from tests.support.polling import wait_for
from tests.support.processes import GraphQLClient, ServiceProcess
from tests.support.websocket import WsClient

SCHEDULE = """mutation($input: ScheduleMaintenanceInput!) {
  scheduleMaintenance(input: $input) {
    maintenance { id status startsAt endsAt services { id status } }
    userErrors { field code message }
  }
}"""
UPDATE = """mutation($input: UpdateMaintenanceInput!) {
  updateMaintenance(input: $input) { maintenance { id status endsAt } userErrors { field code } }
}"""
CANCEL = """mutation($input: EndMaintenanceInput!) {
  cancelMaintenance(input: $input) { maintenance { id status } userErrors { field code message } }
}"""
COMPLETE = """mutation($input: EndMaintenanceInput!) {
  completeMaintenance(input: $input) {
    maintenance { id status endedAt } userErrors { field code message }
  }
}"""
PAGE = """subscription { statusPage { components { name status }
  maintenances { title status components { name } } } }"""


def iso(at: datetime) -> str:
    return at.isoformat()


# --- the clock, injected: two workers racing for the same due window -----------------


def test_two_workers_on_an_injected_clock_make_each_transition_once(mongo_uri: str) -> None:
    name = f"maint_{uuid.uuid4().hex[:8]}"
    start = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
    clock = [start]

    async def scenario() -> None:
        db = Database(mongo_uri, name)
        await db.ensure_indexes()
        jobs = JobStore(db)
        outbox = Outbox(db, jobs)
        statuses = ComponentStatuses(db, outbox)
        windows = MaintenanceStore(db, statuses, jobs, outbox)
        services = ServiceStore(db, statuses)
        workers = [
            Worker(
                jobs,
                {KIND: windows.advance, OUTBOX: outbox.fan_out},
                now=lambda: clock[0],
                poll_interval=1,
                lease=30,
            )
            for _ in range(2)
        ]
        try:
            component = await services.create("Database", None, now=start, actor="t")
            window = await windows.schedule(
                maintenance.Schedule(
                    title="DB upgrade",
                    service_ids=[component.id],
                    starts_at=start + timedelta(minutes=10),
                    ends_at=start + timedelta(minutes=40),
                ),
                now=start,
                actor="t",
                max_window=timedelta(days=7),
            )
            # The outbox message of the scheduling fans out (to no one) at once...
            assert sum(await asyncio.gather(*(w.tick() for w in workers))) == 1
            # ...the window is not due yet: nothing happens, however often the workers look.
            assert sum(await asyncio.gather(*(w.tick() for w in workers))) == 0
            clock[0] = start + timedelta(minutes=10)
            await asyncio.gather(*(w.tick() for w in workers))
            started = await windows.get(window.id)
            assert started is not None and started.status is MaintenanceStatus.IN_PROGRESS
            assert (await services.get(component.id)).status.value == "UNDER_MAINTENANCE"  # type: ignore[union-attr]
            clock[0] = start + timedelta(minutes=45)
            await asyncio.gather(*(w.tick() for w in workers), *(w.tick() for w in workers))
            done = await windows.get(window.id)
            assert done is not None and done.status is MaintenanceStatus.COMPLETED
            assert done.started_at == start + timedelta(minutes=10)
            assert (await services.get(component.id)).status.value == "OPERATIONAL"  # type: ignore[union-attr]
            events = await db.maintenance_events.find({"maintenanceId": window.id}).to_list()
            assert [e["type"] for e in sorted(events, key=lambda e: e["at"])] == [
                "MAINTENANCE_SCHEDULED",
                "MAINTENANCE_STARTED",
                "MAINTENANCE_COMPLETED",
            ]
            messages = await db.outbox.find().sort("at", 1).to_list()
            assert [m["type"] for m in messages] == [
                "maintenance.scheduled",
                "maintenance.started",
                "component.status_changed",
                "maintenance.completed",
                "component.status_changed",
            ]
            job = await jobs.get(f"{KIND}:{window.id}")
            assert job is None  # nothing left to do: the job is gone
        finally:
            await db.client.drop_database(name)
            await db.close()

    asyncio.run(scenario())


# --- two replicas on the real clock --------------------------------------------------


@pytest.fixture(scope="module")
def replica(
    service: ServiceProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    """A second replica on the same database: both run job workers."""
    log = Path(tmp_path_factory.mktemp("maintenance")) / "service.log"
    proc = ServiceProcess(dict(service.env), log_path=log).start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def events(mongo_uri: str, service: ServiceProcess) -> Iterator[Any]:
    client: MongoClient[Any] = MongoClient(mongo_uri, tz_aware=True)
    try:
        yield client[service.env["MONGODB_DATABASE"]].maintenance_events
    finally:
        client.close()


def _component(page: dict[str, Any], name: str) -> str | None:
    for component in page["components"]:
        if component["name"] == name:
            return str(component["status"])
    return None


def test_a_window_starts_and_ends_by_itself_once_across_replicas_and_live(
    service: ServiceProcess, replica: ServiceProcess, gql: GraphQLClient, events: Any
) -> None:
    name = f"Warehouse {uuid.uuid4().hex[:8]}"
    component = create_service(gql, name)
    client = WsClient.initialised(service.ws_url, key=None)
    try:
        client.subscribe("p", PAGE)
        seen: list[str | None] = []

        def status_now() -> str | None:
            message = client.recv()
            assert message["type"] == "next", message
            status = _component(message["payload"]["data"]["statusPage"], name)
            seen.append(status)
            return status

        wait_for(lambda: status_now() == "OPERATIONAL", timeout=30, interval=0)
        now = datetime.now(UTC)
        payload = mutate(
            GraphQLClient(replica.url),
            SCHEDULE,
            title=f"Reindex {name}",
            serviceIds=[component],
            startsAt=iso(now + timedelta(seconds=3)),
            endsAt=iso(now + timedelta(seconds=8)),
        )
        assert payload["userErrors"] == [], payload
        window = payload["maintenance"]
        assert window["status"] == "SCHEDULED"
        wait_for(lambda: status_now() == "UNDER_MAINTENANCE", timeout=30, interval=0)
        wait_for(lambda: status_now() == "OPERATIONAL", timeout=30, interval=0)
    finally:
        client.close()
    # The subscriber saw the window start and end, with no reload.
    assert seen.index("UNDER_MAINTENANCE") < len(seen) - 1
    # Both replicas polled for the job: each transition happened exactly once.
    kinds = sorted(e["type"] for e in events.find({"maintenanceId": window["id"]}))
    assert kinds == ["MAINTENANCE_COMPLETED", "MAINTENANCE_SCHEDULED", "MAINTENANCE_STARTED"]


# --- by hand, and bad input ------------------------------------------------------------


def test_cancel_before_start_and_complete_early(gql: GraphQLClient) -> None:
    component = create_service(gql, f"Mail {uuid.uuid4().hex[:8]}")
    now = datetime.now(UTC)
    later = mutate(
        gql,
        SCHEDULE,
        title="Later",
        serviceIds=[component],
        startsAt=iso(now + timedelta(hours=1)),
        endsAt=iso(now + timedelta(hours=2)),
    )["maintenance"]
    moved = mutate(gql, UPDATE, id=later["id"], endsAt=iso(now + timedelta(hours=3)))
    assert moved["userErrors"] == [] and moved["maintenance"]["endsAt"].startswith(
        (now + timedelta(hours=3)).isoformat()[:16]
    )
    cancelled = mutate(gql, CANCEL, id=later["id"], message="Postponed")
    assert cancelled["maintenance"]["status"] == "CANCELLED"
    again = mutate(gql, CANCEL, id=later["id"])
    assert again["maintenance"] is None and again["userErrors"][0]["code"] == "INVALID_TRANSITION"

    running = mutate(
        gql,
        SCHEDULE,
        title="Now",
        serviceIds=[component],
        startsAt=iso(now - timedelta(minutes=1)),
        endsAt=iso(now + timedelta(hours=1)),
    )["maintenance"]

    def in_progress() -> bool:
        found = gql("query($id: ID!) { maintenance(id: $id) { status } }", {"id": running["id"]})
        return bool(found["maintenance"]["status"] == "IN_PROGRESS")

    wait_for(in_progress, timeout=30)
    done = mutate(gql, COMPLETE, id=running["id"], message="Done early")
    assert done["userErrors"] == [] and done["maintenance"]["status"] == "COMPLETED"
    services = gql("{ services { id status statusReason } }")["services"]
    (mine,) = [s for s in services if s["id"] == component]
    assert mine["status"] == "OPERATIONAL" and mine["statusReason"] is None


@pytest.mark.parametrize(
    ("starts", "ends", "field"),
    [
        (timedelta(hours=2), timedelta(hours=1), "endsAt"),  # ends before it starts
        (timedelta(hours=1), timedelta(hours=1), "endsAt"),  # empty
        (timedelta(hours=1), timedelta(days=8), "endsAt"),  # longer than 7 days
        (timedelta(hours=-3), timedelta(hours=-1), "endsAt"),  # over before it is scheduled
    ],
)
def test_bad_windows_are_refused_and_nothing_is_written(
    gql: GraphQLClient, starts: timedelta, ends: timedelta, field: str
) -> None:
    title = f"Bad {uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    payload = mutate(gql, SCHEDULE, title=title, startsAt=iso(now + starts), endsAt=iso(now + ends))
    assert payload["maintenance"] is None
    (error,) = payload["userErrors"]
    assert error["code"] == "VALIDATION" and error["field"] == ["input", field]
    listed = gql("{ maintenances(first: 100) { edges { node { title } } } }")["maintenances"]
    assert title not in [e["node"]["title"] for e in listed["edges"]]


def test_unknown_services_are_refused(gql: GraphQLClient) -> None:
    now = datetime.now(UTC)
    payload = mutate(
        gql,
        SCHEDULE,
        title="Nowhere",
        serviceIds=["0" * 24],
        startsAt=iso(now + timedelta(hours=1)),
        endsAt=iso(now + timedelta(hours=2)),
    )
    assert payload["maintenance"] is None
    assert payload["userErrors"][0]["code"] == "NOT_FOUND"
    assert payload["userErrors"][0]["field"] == ["input", "serviceIds"]


def test_times_without_an_offset_are_read_as_utc(gql: GraphQLClient) -> None:
    """Found in review: a naive time used to fail with an unexpected error."""
    start = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0, tzinfo=None)
    payload = mutate(
        gql,
        SCHEDULE,
        title="Naive times",
        startsAt=start.isoformat(),
        endsAt=(start + timedelta(hours=1)).isoformat(),
    )
    assert payload["userErrors"] == []
    assert payload["maintenance"]["startsAt"] == start.replace(tzinfo=UTC).isoformat()
