"""Derived component status, by property: after any sequence of changes, every stored status
equals a recomputation from scratch.

A Hypothesis state machine drives the real stores over the wire against the
embedded database: declare incidents with component impacts, change those
impacts, resolve, reopen and close incidents, set manual overrides, schedule
maintenance windows and let the clock (an injected one) start and end them
through the job worker, or end and cancel them by hand. After every step it
recomputes each component's status from the stored incidents, windows and
overrides alone, with the domain rule, and compares it with what the store
wrote: status, reason, and that a SERVICE_STATUS_CHANGED event recorded it.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from incident_service.domain import incident as domain
from incident_service.domain import maintenance, sla
from incident_service.domain.enums import ComponentStatus, IncidentStatus, MaintenanceStatus
from incident_service.domain.errors import DomainError
from incident_service.domain.impacts import ImpactSpec
from incident_service.domain.priority import DEFAULT_SLA
from incident_service.domain.service import derive_status, incident_cause, maintenance_cause
from incident_service.jobs.worker import Worker
from incident_service.store.components import ComponentStatuses
from incident_service.store.database import Database
from incident_service.store.incidents import SLA_KIND, IncidentStore
from incident_service.store.jobs import JobStore
from incident_service.store.maintenances import KIND, MaintenanceStore
from incident_service.store.outbox import KIND as OUTBOX
from incident_service.store.outbox import Outbox
from incident_service.store.services import ServiceStore

SERVICES = 3
#: Runs of up to STEPS steps each; together at least 2,000 steps (checked below).
RUNS, STEPS = 50, 60
WEEK = timedelta(days=7)
ACTOR = "property"
IMPACTS = st.sampled_from(
    [
        ComponentStatus.DEGRADED_PERFORMANCE,
        ComponentStatus.PARTIAL_OUTAGE,
        ComponentStatus.MAJOR_OUTAGE,
    ]
)
MANUAL = st.sampled_from(list(ComponentStatus))
WHICH = st.integers(min_value=0, max_value=10_000)
IMPACT_MAP = st.dictionaries(st.integers(0, SERVICES - 1), IMPACTS, max_size=SERVICES)

#: The database of the current test session, set by the test below.
DATABASE: dict[str, str] = {}
STEPS_RUN = [0]


class ComponentStatusMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
        self.db = self.run(self._open())
        jobs = JobStore(self.db)
        outbox = Outbox(self.db, jobs)
        statuses = ComponentStatuses(self.db, outbox)
        policy = sla.Policy({p.value: t for p, t in DEFAULT_SLA.items()}, 0.8)
        self.incidents = IncidentStore(self.db, statuses, outbox, jobs, policy)
        self.services = ServiceStore(self.db, statuses)
        self.maintenances = MaintenanceStore(self.db, statuses, jobs, outbox)
        self.worker = Worker(
            jobs,
            {
                KIND: self.maintenances.advance,
                OUTBOX: outbox.fan_out,
                SLA_KIND: self.incidents.check_sla,
            },
            now=lambda: self.now,
            poll_interval=1,
            lease=30,
        )
        self.service_ids: list[str] = []
        self.incident_ids: list[str] = []
        self.window_ids: list[str] = []

    async def _open(self) -> Database:
        return Database(DATABASE["uri"], DATABASE["name"])

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    def teardown(self) -> None:
        self.run(self.db.close())
        self.loop.close()

    def tick(self, minutes: int = 1) -> datetime:
        self.now += timedelta(minutes=minutes)
        STEPS_RUN[0] += 1
        return self.now

    def pick(self, ids: list[str], which: int) -> str:
        return ids[which % len(ids)]

    def specs(self, impacts: dict[int, ComponentStatus]) -> list[ImpactSpec]:
        return [ImpactSpec(self.service_ids[i], status) for i, status in impacts.items()]

    @initialize()
    def create_services(self) -> None:
        run_tag = uuid.uuid4().hex[:8]
        for n in range(SERVICES):
            service = self.run(
                self.services.create(f"prop-{run_tag}-{n}", None, now=self.now, actor=ACTOR)
            )
            self.service_ids.append(service.id)

    # Incidents

    @rule(impacts=IMPACT_MAP)
    def declare(self, impacts: dict[int, ComponentStatus]) -> None:
        cmd = domain.Declaration(title="Property", component_impacts=self.specs(impacts))
        incident, _ = self.run(self.incidents.declare(cmd, now=self.tick(), actor=ACTOR))
        self.incident_ids.append(incident.id)

    def _apply(self, which: int, command: Any) -> None:
        now = self.tick()
        # Not allowed in the incident's state: nothing written, nothing more to check.
        with contextlib.suppress(DomainError):
            self.run(
                self.incidents.apply(self.pick(self.incident_ids, which), lambda i: command(i, now))
            )

    @precondition(lambda self: self.incident_ids)
    @rule(which=WHICH, impacts=IMPACT_MAP)
    def change_impacts(self, which: int, impacts: dict[int, ComponentStatus]) -> None:
        update = domain.Update(component_impacts=self.specs(impacts))
        self._apply(which, lambda i, now: domain.update(i, update, now=now, actor=ACTOR))

    @precondition(lambda self: self.incident_ids)
    @rule(which=WHICH, to=st.sampled_from(list(IncidentStatus)))
    def transition(self, which: int, to: IncidentStatus) -> None:
        self._apply(which, lambda i, now: domain.transition(i, to, now=now, actor=ACTOR))

    # Manual overrides

    @rule(which=WHICH, status=MANUAL)
    def set_manual(self, which: int, status: ComponentStatus) -> None:
        service_id = self.pick(self.service_ids, which)
        self.run(self.services.set_status(service_id, status, now=self.tick(), actor=ACTOR))

    # Maintenance windows: the clock moves them, through the job worker

    @rule(services=st.sets(st.integers(0, SERVICES - 1), max_size=SERVICES),
          start=st.integers(0, 30), length=st.integers(1, 30))  # fmt: skip
    def schedule(self, services: set[int], start: int, length: int) -> None:
        now = self.tick()
        cmd = maintenance.Schedule(
            title=f"Window {len(self.window_ids)}",
            service_ids=[self.service_ids[i] for i in sorted(services)],
            starts_at=now + timedelta(minutes=start),
            ends_at=now + timedelta(minutes=start + length),
        )
        window = self.run(self.maintenances.schedule(cmd, now=now, actor=ACTOR, max_window=WEEK))
        self.window_ids.append(window.id)

    @rule(minutes=st.integers(1, 40))
    def clock_moves(self, minutes: int) -> None:
        self.tick(minutes)
        self.run(self.worker.tick())

    @precondition(lambda self: self.window_ids)
    @rule(which=WHICH, cancel=st.booleans())
    def end_by_hand(self, which: int, cancel: bool) -> None:
        now = self.tick()
        command = maintenance.cancel if cancel else maintenance.complete
        with contextlib.suppress(DomainError):
            self.run(
                self.maintenances.change(
                    self.pick(self.window_ids, which),
                    lambda m: command(m, now),
                    actor=ACTOR,
                    event="BY_HAND",
                )
            )

    # The property

    @invariant()
    def every_status_is_a_recomputation_from_scratch(self) -> None:
        if not self.service_ids:
            return
        self.run(self._check())

    async def _check(self) -> None:
        incidents = await self.db.incidents.find({"_id": {"$in": self.incident_ids}}).to_list()
        windows = await self.db.maintenances.find({"_id": {"$in": self.window_ids}}).to_list()
        for service_id in self.service_ids:
            stored = await self.db.services.find_one({"_id": service_id})
            assert stored is not None
            holding = sorted(
                (doc["number"], impact["status"])
                for doc in incidents
                for impact in doc.get("componentImpacts", ())
                if impact["serviceId"] == service_id and impact.get("endedAt") is None
            )
            # An open impact only ever belongs to an open incident.
            assert all(
                doc["open"]
                for doc in incidents
                for impact in doc.get("componentImpacts", ())
                if impact["serviceId"] == service_id and impact.get("endedAt") is None
            )
            running = sorted(
                (w["startsAt"], w["title"])
                for w in windows
                if w["status"] == MaintenanceStatus.IN_PROGRESS.value
                and service_id in w["serviceIds"]
            )
            expected = derive_status(
                ComponentStatus(stored["manualStatus"]),
                [incident_cause(f"INC-{n}", ComponentStatus(s)) for n, s in holding],
                [maintenance_cause(title) for _, title in running],
            )
            assert (stored["status"], stored.get("statusReason")) == (
                expected.status.value,
                expected.reason,
            ), f"{service_id}: stored {stored['status']} ({stored.get('statusReason')})"
            last = await (
                self.db.service_events.find({"serviceId": service_id})
                .sort([("at", -1), ("_id", -1)])
                .limit(1)
                .to_list()
            )
            assert last and last[0]["status"] == stored["status"]


def test_stored_component_status_always_equals_a_recomputation(mongo_uri: str) -> None:
    # A database of its own: no service process (whose job worker runs on the real
    # clock) may move the windows this test moves with its injected clock.
    DATABASE.update(uri=mongo_uri, name=f"property_{uuid.uuid4().hex[:8]}")

    async def create_indexes() -> None:
        database = Database(DATABASE["uri"], DATABASE["name"])
        try:
            await database.ensure_indexes()
        finally:
            await database.close()

    asyncio.run(create_indexes())
    STEPS_RUN[0] = 0
    machine = ComponentStatusMachine.TestCase
    machine.settings = settings(
        max_examples=RUNS,
        stateful_step_count=STEPS,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    machine().runTest()
    print(f"{STEPS_RUN[0]} steps")
    assert STEPS_RUN[0] >= 2000, f"only {STEPS_RUN[0]} steps ran"
