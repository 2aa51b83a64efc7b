"""The stores on a database of their own, for tests that reach below the API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from incident_service.domain import sla
from incident_service.domain.priority import DEFAULT_SLA
from incident_service.store.components import ComponentStatuses
from incident_service.store.database import Database
from incident_service.store.incidents import IncidentStore
from incident_service.store.jobs import JobStore
from incident_service.store.outbox import Outbox


@dataclass
class Stores:
    db: Database
    jobs: JobStore
    outbox: Outbox
    incidents: IncidentStore


async def stores(mongo_uri: str, prefix: str) -> Stores:
    """A new database named `prefix_<random>`, its indexes made, and the incident store
    over it with the default SLA policy."""
    db = Database(mongo_uri, f"{prefix}_{uuid.uuid4().hex[:8]}")
    await db.ensure_indexes()
    jobs = JobStore(db)
    outbox = Outbox(db, jobs)
    policy = sla.Policy({p.value: t for p, t in DEFAULT_SLA.items()}, 0.8)
    incidents = IncidentStore(db, ComponentStatuses(db, outbox), outbox, jobs, policy)
    return Stores(db, jobs, outbox, incidents)
