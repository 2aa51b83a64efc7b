"""Maintenance windows: each change, its `maintenance_events` document, its timed job and
the derived status of its components, in one transaction.

The window's one job (`maintenance:<id>`) is due at its next transition
(start, then end). `advance` is that job's handler: it applies whatever the
clock calls for, guarded by the window's version and the job's lease, so
with every replica running workers each transition happens once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from bson import ObjectId
from pymongo.asynchronous.client_session import AsyncClientSession

from incident_service.domain import maintenance as domain
from incident_service.domain import notifications
from incident_service.domain.enums import MaintenanceStatus
from incident_service.domain.errors import not_found
from incident_service.domain.maintenance import Maintenance, MaintenanceUpdate
from incident_service.store.codec import Doc
from incident_service.store.components import ComponentStatuses
from incident_service.store.database import Database
from incident_service.store.jobs import Job, JobStore
from incident_service.store.outbox import Outbox
from incident_service.store.paging import Order, after_filter, decode_cursor, encode_cursor

KIND = "maintenance"
ORDER = Order("NEWEST_FIRST", (("startsAt", -1), ("_id", -1)))
#: Ended windows the status page reads at most.
MAX_PAST = 50
#: The actor of the clock's transitions on the timeline.
SCHEDULER = "scheduler"


class _Stale(Exception):
    """The window moved on between read and write."""


def to_doc(m: Maintenance) -> Doc:
    return {
        "_id": m.id,
        "title": m.title,
        "description": m.description,
        "serviceIds": list(m.service_ids),
        "startsAt": m.starts_at,
        "endsAt": m.ends_at,
        "status": m.status.value,
        "published": m.published,
        "createdAt": m.created_at,
        "updatedAt": m.updated_at,
        "createdBy": m.created_by,
        "startedAt": m.started_at,
        "endedAt": m.ended_at,
        "updates": [{"body": u.body, "status": u.status.value, "at": u.at} for u in m.updates],
        "version": m.version,
    }


def from_doc(d: Doc) -> Maintenance:
    return Maintenance(
        id=d["_id"],
        title=d["title"],
        description=d.get("description"),
        service_ids=tuple(d.get("serviceIds", ())),
        starts_at=d["startsAt"],
        ends_at=d["endsAt"],
        status=MaintenanceStatus(d["status"]),
        published=d.get("published", True),
        created_at=d["createdAt"],
        updated_at=d["updatedAt"],
        created_by=d.get("createdBy", "unknown"),
        started_at=d.get("startedAt"),
        ended_at=d.get("endedAt"),
        updates=tuple(
            MaintenanceUpdate(u["body"], MaintenanceStatus(u["status"]), u["at"])
            for u in d.get("updates", ())
        ),
        version=d.get("version", 1),
    )


def job_id(maintenance_id: str) -> str:
    return f"{KIND}:{maintenance_id}"


class MaintenanceStore:
    def __init__(
        self, database: Database, statuses: ComponentStatuses, jobs: JobStore, outbox: Outbox
    ) -> None:
        self._db = database
        self._outbox = outbox
        self._statuses = statuses
        self._jobs = jobs

    async def get(self, maintenance_id: str) -> Maintenance | None:
        doc = await self._db.maintenances.find_one({"_id": maintenance_id})
        return from_doc(doc) if doc else None

    async def page(
        self, statuses: tuple[MaintenanceStatus, ...], first: int, after: str | None
    ) -> tuple[list[tuple[Maintenance, str]], bool]:
        query: Doc = {"status": {"$in": [s.value for s in statuses]}} if statuses else {}
        if after:
            keyset = after_filter(ORDER, decode_cursor(ORDER, after))
            query = {"$and": [query, keyset]} if query else keyset
        docs = await self._db.maintenances.find(query).sort(ORDER.sort).limit(first + 1).to_list()
        return [(from_doc(d), encode_cursor(ORDER, d)) for d in docs[:first]], len(docs) > first

    async def for_status_page(self, since: datetime) -> list[Maintenance]:
        """Published windows not yet over, and those that ended since `since`."""
        active, ended = await asyncio.gather(
            self._db.maintenances.find(
                {
                    "published": True,
                    "status": {"$in": [MaintenanceStatus.SCHEDULED, MaintenanceStatus.IN_PROGRESS]},
                }
            ).to_list(),
            self._db.maintenances.find(
                {
                    "published": True,
                    "status": {"$in": [MaintenanceStatus.COMPLETED, MaintenanceStatus.CANCELLED]},
                    "endsAt": {"$gte": since},
                }
            )
            .sort("endsAt", -1)
            .limit(MAX_PAST)
            .to_list(),
        )
        return [from_doc(d) for d in (*active, *ended)]

    async def schedule(
        self, cmd: domain.Schedule, *, now: datetime, actor: str, max_window: timedelta
    ) -> Maintenance:
        window = domain.schedule(
            cmd, id=str(ObjectId()), now=now, actor=actor, max_window=max_window
        )

        async def txn(session: AsyncClientSession) -> None:
            await self._db.maintenances.insert_one(to_doc(window), session=session)
            await self._after(None, window, "MAINTENANCE_SCHEDULED", actor, session)

        await self._db.transaction(txn)
        return window

    async def change(
        self,
        maintenance_id: str,
        command: Callable[[Maintenance], Maintenance],
        *,
        actor: str,
        event: str,
    ) -> Maintenance:
        """Load, run a pure command, write it with its consequences; retried on a race."""
        for _ in range(5):
            current = await self.get(maintenance_id)
            if current is None:
                raise not_found("maintenance")
            updated = command(current)
            if updated is current:
                return current
            try:
                await self._save(current, updated, event, actor)
            except _Stale:
                continue
            return updated
        raise not_found("maintenance")  # pragma: no cover - five lost races in a row

    async def _save(self, before: Maintenance, after: Maintenance, event: str, actor: str) -> None:
        async def txn(session: AsyncClientSession) -> None:
            await self._write(before, after, event, actor, session)

        await self._db.transaction(txn)

    async def advance(self, job: Job, now: datetime) -> None:
        """The job handler: apply the transition the clock calls for, exactly once."""

        async def txn(session: AsyncClientSession) -> None:
            doc = await self._db.maintenances.find_one({"_id": job.ref}, session=session)
            if doc is None:
                await self._jobs.settle(job, None, session)
                return
            current = from_doc(doc)
            due = domain.due(current, now)
            if due is MaintenanceStatus.IN_PROGRESS:
                started = domain.start(current, now)
                await self._write(current, started, "MAINTENANCE_STARTED", SCHEDULER, session, job)
            elif due is MaintenanceStatus.COMPLETED:
                ended = domain.complete(current, now)
                await self._write(current, ended, "MAINTENANCE_COMPLETED", SCHEDULER, session, job)
            else:
                # Moved meanwhile: due later, or already over.
                await self._jobs.settle(job, domain.next_due_at(current), session)

        await self._db.transaction(txn)

    async def _write(
        self,
        before: Maintenance,
        after: Maintenance,
        event: str,
        actor: str,
        session: AsyncClientSession,
        job: Job | None = None,
    ) -> None:
        result = await self._db.maintenances.replace_one(
            {"_id": before.id, "version": before.version}, to_doc(after), session=session
        )
        if result.matched_count == 0:
            raise _Stale
        await self._after(before, after, event, actor, session, job)

    async def _after(
        self,
        before: Maintenance | None,
        after: Maintenance,
        event: str,
        actor: str,
        session: AsyncClientSession,
        job: Job | None = None,
    ) -> None:
        """What every change of a window brings along, in its transaction."""
        await self._db.maintenance_events.insert_one(
            {
                "maintenanceId": after.id,
                "type": event,
                "at": after.updated_at,
                "actor": actor,
                "status": after.status.value,
            },
            session=session,
        )
        message = notifications.for_maintenance(after, event)
        if message is not None:
            await self._outbox.record([message], session)
        was_on = set(before.service_ids) if before and before.status is _IN_PROGRESS else set()
        now_on = set(after.service_ids) if after.status is _IN_PROGRESS else set()
        title_moved = before is not None and before.title != after.title
        touched = (was_on ^ now_on) | (now_on if title_moved else set())
        if touched:
            await self._statuses.refresh(
                touched, session=session, now=after.updated_at, actor=actor
            )
        next_due = domain.next_due_at(after)
        if job is not None:
            await self._jobs.settle(job, next_due, session)
        else:
            await self._jobs.schedule(job_id(after.id), KIND, after.id, next_due, session)


_IN_PROGRESS = MaintenanceStatus.IN_PROGRESS
