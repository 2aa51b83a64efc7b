"""Incidents and their timeline: reads, and writes guarded by version."""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime

from bson import ObjectId
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from incident_service.domain import idempotency, notifications, sla
from incident_service.domain.enums import Visibility
from incident_service.domain.errors import DomainError, conflict, not_found
from incident_service.domain.impacts import ComponentImpact, changed_services
from incident_service.domain.incident import Change, Declaration, Event, Incident, declare
from incident_service.domain.notifications import Message
from incident_service.domain.query import IncidentOrder, IncidentQuery
from incident_service.store import codec
from incident_service.store.codec import Doc
from incident_service.store.components import ComponentStatuses
from incident_service.store.database import Database
from incident_service.store.inserts import Inserts
from incident_service.store.jobs import Job, JobStore, new_job
from incident_service.store.outbox import Outbox
from incident_service.store.paging import Order, after_filter, decode_cursor, encode_cursor

_ORDERS: dict[IncidentOrder, Order] = {
    IncidentOrder.NEWEST_FIRST: Order("NEWEST_FIRST", (("declaredAt", -1), ("_id", -1))),
    IncidentOrder.OLDEST_FIRST: Order("OLDEST_FIRST", (("declaredAt", 1), ("_id", 1))),
    IncidentOrder.PRIORITY: Order("PRIORITY", (("priority", 1), ("declaredAt", -1), ("_id", -1))),
}

SLA_KIND = "sla"

#: Attempts for a command without expectedVersion that races another writer.
_RETRIES = 12


async def _back_off(attempt: int) -> None:
    """Before re-running a command that lost a race: a random wait that grows with each
    loss (full jitter, at most about 0.3 s), so writers that collided spread out
    instead of colliding again at once."""
    await asyncio.sleep(random.uniform(0, min(0.3, 0.005 * 2**attempt)))


def sla_job_id(incident_id: str) -> str:
    return f"{SLA_KIND}:{incident_id}"


def sort_order(order: IncidentOrder) -> Order:
    """The sort keys of a list order (each has an index, see database.py)."""
    return _ORDERS[order]


def to_filter(query: IncidentQuery) -> Doc:
    """The database filter of a list query; `domain.query.matches` is its in-memory twin."""
    clauses: list[Doc] = []
    if query.statuses:
        clauses.append({"status": {"$in": [s.value for s in query.statuses]}})
    if query.priorities:
        clauses.append({"priority": {"$in": [p.value for p in query.priorities]}})
    if query.category is not None:
        clauses.append({"category": query.category.value})
    if query.service_id is not None:
        clauses.append({"serviceIds": query.service_id})
    if query.label is not None:
        clauses.append({"labels": query.label})
    if query.search:
        # The user's text is matched literally, never as a pattern.
        clauses.append({"title": {"$regex": re.escape(query.search), "$options": "i"}})
    if query.open_only:
        clauses.append({"open": True})
    if query.declared_after is not None:
        clauses.append({"declaredAt": {"$gte": query.declared_after}})
    if query.declared_before is not None:
        clauses.append({"declaredAt": {"$lt": query.declared_before}})
    if query.visibility is not None:
        clauses.append({"visibility": query.visibility.value})
    if query.sla_breached is not None:
        # Incidents written before SLA marks existed have no field: not breached.
        clauses.append({"slaBreached": True if query.sla_breached else {"$ne": True}})
    if query.sla_due_before is not None:
        clauses.append({"slaDueAt": {"$lt": query.sla_due_before}})
    if query.viewer is not None:
        clauses.append({"$or": [{"restricted": {"$ne": True}}, {"viewers": query.viewer}]})
    if not clauses:
        return {}
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _notifications(change: Change) -> list[Message]:
    """What a change tells webhooks and subscribers: nothing while the incident is
    restricted (they are not its participants)."""
    if change.incident.restricted:
        return []
    return notifications.for_incident(change)


@dataclass(frozen=True)
class Page:
    items: list[tuple[Incident, str]]  # (incident, cursor)
    has_next: bool


class Stale(Exception):
    """The incident moved on between read and write."""


@dataclass(frozen=True)
class Numbered:
    """A new incident's number, and the counter's document it was taken from (which
    holds the listeners flag: store/listeners.py)."""

    value: int
    counter: Doc


class IncidentStore:
    def __init__(
        self,
        database: Database,
        statuses: ComponentStatuses,
        outbox: Outbox,
        jobs: JobStore,
        sla_policy: sla.Policy,
    ) -> None:
        self._db = database
        self._statuses = statuses
        self._outbox = outbox
        self._jobs = jobs
        self._sla = sla_policy
        self._incidents = database.incidents
        self._events = database.incident_events

    # Reads

    async def get(self, incident_id: str) -> Incident | None:
        doc = await self._incidents.find_one({"_id": incident_id})
        return codec.incident_from_doc(doc) if doc else None

    async def get_by_key(self, key: str) -> Incident | None:
        match = re.fullmatch(r"INC-(\d{1,12})", key.strip().upper())
        if not match:
            return None
        doc = await self._incidents.find_one({"number": int(match.group(1))})
        return codec.incident_from_doc(doc) if doc else None

    async def get_many(self, ids: list[str]) -> list[Incident]:
        if not ids:
            return []  # most incidents have no children or links: no round trip
        docs = await self._incidents.find({"_id": {"$in": ids}}).to_list()
        return [codec.incident_from_doc(d) for d in docs]

    async def page(
        self, query: IncidentQuery, order_by: IncidentOrder, first: int, after: str | None
    ) -> Page:
        order = sort_order(order_by)
        mongo = to_filter(query)
        if after:
            keyset = after_filter(order, decode_cursor(order, after))
            mongo = {"$and": [mongo, keyset]} if mongo else keyset
        docs = await self._incidents.find(mongo).sort(order.sort).limit(first + 1).to_list()
        items = [(codec.incident_from_doc(d), encode_cursor(order, d)) for d in docs[:first]]
        return Page(items, has_next=len(docs) > first)

    async def count(self, query: IncidentQuery) -> int:
        return await self._incidents.count_documents(to_filter(query))

    async def events(
        self,
        incident_id: str,
        after_seq: int = 0,
        limit: int = 100,
        visibility: Visibility | None = None,
    ) -> list[Event]:
        mongo: Doc = {"incidentId": incident_id, "seq": {"$gt": after_seq}}
        if visibility is not None:
            mongo["visibility"] = visibility.value
        docs = await self._events.find(mongo).sort("seq", 1).limit(limit).to_list()
        return [codec.event_from_doc(d) for d in docs]

    async def events_of_many(
        self, incident_ids: list[str], after_seq: int, limit: int
    ) -> dict[str, list[Event]]:
        """The first `limit` events after `after_seq` of each incident, in one round trip.

        A lookup per incident, limited inside, so a long timeline is read no further than
        the page (a $group would read all of it), and one document per event comes back
        (a group per incident could pass the 16 MB document limit)."""
        if len(incident_ids) <= 1:
            return {i: await self.events(i, after_seq, limit) for i in incident_ids}
        same_incident = {"$eq": ["$incidentId", "$$incident"]}
        later = {"$gt": ["$seq", after_seq]}
        pipeline: list[Doc] = [
            {"$match": {"_id": {"$in": incident_ids}}},
            {"$project": {"_id": 1}},
            {
                "$lookup": {
                    "from": self._events.name,
                    "let": {"incident": "$_id"},
                    "pipeline": [
                        {"$match": {"$expr": {"$and": [same_incident, later]}}},
                        {"$sort": {"seq": 1}},
                        {"$limit": limit},
                    ],
                    "as": "events",
                }
            },
            {"$unwind": "$events"},
            {"$replaceRoot": {"newRoot": "$events"}},
        ]
        found: dict[str, list[Event]] = {i: [] for i in incident_ids}
        async for doc in await self._incidents.aggregate(pipeline):
            found[doc["incidentId"]].append(codec.event_from_doc(doc))
        for events in found.values():
            events.sort(key=lambda e: e.seq)
        return found

    # Writes

    async def declare(
        self,
        cmd: Declaration,
        *,
        now: datetime,
        actor: str,
        then: Callable[[Change], Change] | None = None,
    ) -> tuple[Incident, bool]:
        """Create an incident; returns (incident, created). The same idempotency key from
        the same actor with the same declaration returns the same incident; with another
        declaration it is IDEMPOTENCY_KEY_REUSED (domain/idempotency.py).

        `then` extends the declaration in the same write (a template's tasks and runbook)."""
        if cmd.idempotency_key:
            cmd = replace(
                cmd,
                idempotency_key=idempotency.scoped_key(actor, cmd.idempotency_key),
                idempotency_fingerprint=idempotency.fingerprint(cmd),
            )
            replayed = await self._replayed(cmd)
            if replayed is not None:
                return replayed, False
        created: list[Change] = []
        # Taken before the transaction, committed at once: in it, every concurrent
        # declaration would write the one counter document and they would abort each
        # other (10 at once: 45 declarations/s against 345 writes of two documents). A
        # declaration that fails after this leaves a gap in the numbers: an invalid one
        # is refused first (the same pure checks, on a number not taken).
        probe = declare(cmd, id=str(ObjectId()), number=0, now=now, actor=actor)
        if then is not None:
            then(probe)
        number = await self.next_number(None)

        async def txn(session: AsyncClientSession) -> None:
            created.clear()
            change = declare(cmd, id=str(ObjectId()), number=number.value, now=now, actor=actor)
            change = self._stamped(then(change) if then else change)
            await self.insert(change, session, counter=number.counter)
            created.append(change)

        try:
            await self._db.transaction(txn)
        except DuplicateKeyError:
            # A concurrent declare with the same key won the race (any other duplicate,
            # or a declaration without a key, is not about an existing incident).
            replayed = await self._replayed(cmd) if cmd.idempotency_key else None
            if replayed is None:
                raise
            return replayed, False
        return created[0].incident, True

    async def _replayed(self, cmd: Declaration) -> Incident | None:
        """The incident an earlier call with this (scoped) key declared, if any."""
        existing = await self._incidents.find_one({"idempotencyKey": cmd.idempotency_key})
        if existing is None:
            return None
        incident = codec.incident_from_doc(existing)
        if incident.idempotency_fingerprint != cmd.idempotency_fingerprint:
            raise idempotency.reused()
        return incident

    async def apply(
        self,
        incident_id: str,
        command: Callable[[Incident], Change],
        expected_version: int | None = None,
    ) -> Change:
        """Load, run a pure command, write the result and its events in one transaction.

        With `expected_version`, a mismatch is a CONFLICT and nothing is written.
        Without it, a race with another writer re-runs the command on fresh state.
        """
        for attempt in range(_RETRIES):
            if attempt:
                await _back_off(attempt)
            incident = await self.get(incident_id)
            if incident is None:
                raise not_found("incident")
            if expected_version is not None and expected_version != incident.version:
                raise conflict(expected_version, incident.version)
            change = self._stamped(command(incident))
            if not change.events:
                return change
            try:
                await self._save(change, incident)
            except Stale:
                if expected_version is not None:
                    fresh = await self.get(incident_id)
                    if fresh is None or fresh.version != expected_version:
                        raise conflict(expected_version, fresh.version if fresh else -1) from None
                    # Only the timeline moved (`beside`: a postmortem or an action item
                    # leaves the version as it is), so the caller's version still holds.
                continue
            return change
        raise DomainError(conflict(0, 0).code, "the incident is changing too fast; retry", None)

    async def apply_together(
        self,
        first_id: str,
        second_id: str,
        command: Callable[[Incident, Incident], tuple[Change, Change]],
        fields: tuple[str, str] = ("id", "relatedId"),
    ) -> tuple[Change, Change]:
        """`apply` for a command on two incidents (a major incident and one it gathers):
        both changes in one transaction, each guarded by its version; re-run on a race."""
        for _ in range(_RETRIES):
            first, second = await asyncio.gather(self.get(first_id), self.get(second_id))
            if first is None:
                raise not_found("incident", fields[0])
            if second is None:
                raise not_found("incident", fields[1])
            one, other = command(first, second)
            pairs = ((one, first), (other, second))

            async def txn(
                session: AsyncClientSession, pairs: tuple[tuple[Change, Incident], ...] = pairs
            ) -> None:
                for change, previous in pairs:
                    await self.write(change, previous, session)

            try:
                await self._db.transaction(txn)
            except (Stale, DuplicateKeyError):
                continue
            return one, other
        raise DomainError(conflict(0, 0).code, "the incident is changing too fast; retry", None)

    async def _save(self, change: Change, previous: Incident) -> None:
        async def txn(session: AsyncClientSession) -> None:
            await self.write(change, previous, session)

        try:
            await self._db.transaction(txn)
        except DuplicateKeyError:
            # Same (incidentId, seq) written by a concurrent writer.
            raise Stale from None

    async def beside(
        self,
        incident_id: str,
        body: Callable[[Incident, AsyncClientSession], Awaitable[tuple[Event, ...]]],
        field: str = "incidentId",
    ) -> None:
        """Run `body` in one transaction with the incident as it is there, and put the events
        it returns on the incident's timeline.

        For what is kept beside an incident (its postmortem, its action items): the
        incident's own fields, `version` and `updatedAt` stay as they are, so this works on
        a CLOSED incident too; only `lastSeq` moves. Re-run when the timeline moved meanwhile.
        """
        for _ in range(_RETRIES):

            async def txn(session: AsyncClientSession) -> None:
                doc = await self._incidents.find_one({"_id": incident_id}, session=session)
                if doc is None:
                    raise not_found("incident", field)
                incident = codec.incident_from_doc(doc)
                events = await body(incident, session)
                if not events:
                    return
                result = await self._incidents.update_one(
                    {"_id": incident_id, "lastSeq": incident.last_seq},
                    {"$set": {"lastSeq": events[-1].seq}},
                    session=session,
                )
                if result.matched_count == 0:
                    raise Stale
                await self._insert_events(events, session)

            try:
                await self._db.transaction(txn)
            except (Stale, DuplicateKeyError):
                continue
            return
        raise DomainError(conflict(0, 0).code, "the incident is changing too fast; retry", None)

    # Writes inside a caller's transaction (alert intake runs several in one)

    async def next_number(self, session: AsyncClientSession | None) -> Numbered:
        """The next human number (INC-n): in the caller's transaction, or (no session)
        committed at once, outside any transaction; with the counter's document, which
        holds the listeners flag (store/listeners.py), for `insert`."""
        for _ in range(_RETRIES):
            try:
                counter = await self._db.counters.find_one_and_update(
                    {"_id": "incident"},
                    {"$inc": {"seq": 1}},
                    upsert=True,
                    return_document=True,
                    session=session,
                )
            except DuplicateKeyError:
                # Two first upserts raced outside a transaction; the loser increments.
                continue
            if counter is not None:
                return Numbered(int(counter["seq"]), counter)
        raise RuntimeError("the incident counter could not be incremented")

    def _stamped(self, change: Change) -> Change:
        """The change with its incident's SLA fields up to date (idempotent)."""
        return Change(sla.stamp(change.incident, self._sla), change.events)

    async def insert(
        self, change: Change, session: AsyncClientSession, counter: Doc | None = None
    ) -> None:
        """A new incident and its first events. `counter`: the counter's document its
        number was taken from (`next_number`)."""
        change = self._stamped(change)
        incident = change.incident
        # Everything new goes in one command (store/inserts.py), the SLA job with the
        # outbox's fan-out jobs.
        inserts = Inserts()
        inserts.add(self._incidents, [codec.incident_to_doc(incident)])
        inserts.add(self._events, [codec.event_to_doc(e) for e in change.events])
        due = sla.next_mark(incident, self._sla)
        timer = [new_job(sla_job_id(incident.id), SLA_KIND, incident.id, due)] if due else []
        await self._outbox.add(
            inserts, _notifications(change), session, jobs=timer, counter=counter
        )
        await self._db.insert_together(inserts, session)
        await self._follow_components((), change, session)

    async def write(
        self,
        change: Change,
        previous: Incident,
        session: AsyncClientSession,
        job: Job | None = None,
    ) -> None:
        """A change to a stored incident, guarded by the version it was computed from.

        `job` is the SLA job when its handler writes the change: it is settled, not
        rescheduled, so the lease still guards it."""
        if not change.events:
            return
        change = self._stamped(change)
        doc = codec.incident_to_doc(change.incident)
        result = await self._incidents.replace_one(
            {"_id": doc["_id"], "version": previous.version}, doc, session=session
        )
        if result.matched_count == 0:
            raise Stale
        inserts = Inserts()
        inserts.add(self._events, [codec.event_to_doc(e) for e in change.events])
        await self._outbox.add(inserts, _notifications(change), session)
        await self._db.insert_together(inserts, session)
        await self._follow_components(previous.component_impacts, change, session)
        if previous.is_open and not change.incident.is_open:
            await self._resolve_alerts(change.incident.id, change.events[-1].at, session)
        await self._follow_sla(previous, change.incident, session, job)

    async def _follow_sla(
        self,
        before: Incident,
        after: Incident,
        session: AsyncClientSession,
        job: Job | None = None,
    ) -> None:
        """Keep a stored incident's SLA job due at its next mark (a new incident's job is
        inserted with it, see `insert`)."""
        due = sla.next_mark(after, self._sla)
        if job is not None:
            await self._jobs.settle(job, due, session)
        elif due != sla.next_mark(before, self._sla):
            await self._jobs.schedule(sla_job_id(after.id), SLA_KIND, after.id, due, session)

    async def check_sla(self, job: Job, now: datetime) -> Change | None:
        """The SLA job's handler: write the marks due now (exactly once, under the job's
        lease and the incident's version), and make the job due at the next one."""
        written: list[Change] = []

        async def txn(session: AsyncClientSession) -> None:
            written.clear()
            doc = await self._incidents.find_one({"_id": job.ref}, session=session)
            if doc is None:
                await self._jobs.settle(job, None, session)
                return
            incident = codec.incident_from_doc(doc)
            change = sla.mark(incident, self._sla, now)
            if not change.events:
                await self._jobs.settle(job, sla.next_mark(incident, self._sla), session)
                return
            await self.write(change, incident, session, job)
            written.append(change)

        await self._db.transaction(txn)
        return written[0] if written else None

    async def _resolve_alerts(
        self, incident_id: str, now: datetime, session: AsyncClientSession
    ) -> None:
        """Resolving an incident resolves its alerts (as PagerDuty does): the next trigger of
        the same key is a new alert, and opens a new incident."""
        await self._db.alerts.update_many(
            {"incidentId": incident_id, "open": True},
            {"$set": {"status": "RESOLVED", "resolvedAt": now, "open": False}},
            session=session,
        )

    async def _follow_components(
        self, before: tuple[ComponentImpact, ...], change: Change, session: AsyncClientSession
    ) -> None:
        """Components whose open impact moved get their derived status in this transaction."""
        moved = changed_services(before, change.incident.component_impacts)
        if moved and change.events:
            first = change.events[0]
            await self._statuses.refresh(moved, session=session, now=first.at, actor=first.actor)

    async def _insert_events(self, events: tuple[Event, ...], session: AsyncClientSession) -> None:
        # Through Inserts for its errors: an (incidentId, seq) a concurrent writer took
        # is a DuplicateKeyError (not a BulkWriteError), on which `beside` runs again.
        inserts = Inserts()
        inserts.add(self._events, [codec.event_to_doc(e) for e in events])
        await self._db.insert_together(inserts, session)
