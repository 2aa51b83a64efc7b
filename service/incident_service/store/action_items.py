"""Action items: one document each, written with its incident's timeline events.

Lists are ordered by due date (soonest first, undated last), then id: the
weekly review reads what is due next. Each filter has an index that ends in
that order, so a page is an index range already sorted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bson import ObjectId
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession

from incident_service.domain import action_items as domain
from incident_service.domain.action_items import ActionItem, ActionItemChange, ActionItemStatus
from incident_service.domain.enums import Priority
from incident_service.domain.errors import not_found
from incident_service.domain.incident import Event, Incident
from incident_service.store.codec import Doc
from incident_service.store.database import Database
from incident_service.store.incidents import IncidentStore, Stale
from incident_service.store.paging import Order, after_filter, decode_cursor, encode_cursor

ORDER = Order("DUE_FIRST", (("dueSort", 1), ("_id", 1)))
#: The sort key of an item without a due date: after every dated one.
UNDATED = datetime(9999, 12, 31, tzinfo=UTC)
#: The most items `Incident.actionItems` returns.
MAX_PER_INCIDENT = 200

_BY_DUE = [("dueSort", ASCENDING), ("_id", ASCENDING)]
INDEXES: dict[str, list[IndexModel]] = {
    "action_items": [
        IndexModel(_BY_DUE, name="due"),
        *(
            IndexModel([(field, ASCENDING), *_BY_DUE], name=f"{field}_due")
            for field in ("incidentId", "owner", "status", "pending")
        ),
    ]
}


def to_doc(item: ActionItem) -> Doc:
    return {
        "_id": item.id,
        "incidentId": item.incident_id,
        "title": item.title,
        "description": item.description,
        "owner": item.owner,
        "dueAt": item.due_at,
        "dueSort": item.due_at or UNDATED,
        "priority": item.priority.value,
        "status": item.status.value,
        "pending": item.pending,
        "url": item.url,
        "createdAt": item.created_at,
        "createdBy": item.created_by,
        "updatedAt": item.updated_at,
        "completedAt": item.completed_at,
        "version": item.version,
    }


def from_doc(d: Doc) -> ActionItem:
    return ActionItem(
        id=d["_id"],
        incident_id=d["incidentId"],
        title=d["title"],
        description=d.get("description"),
        owner=d["owner"],
        due_at=d.get("dueAt"),
        priority=Priority(d["priority"]),
        status=ActionItemStatus(d["status"]),
        url=d.get("url"),
        created_at=d["createdAt"],
        created_by=d["createdBy"],
        updated_at=d["updatedAt"],
        completed_at=d.get("completedAt"),
        version=d["version"],
    )


@dataclass(frozen=True)
class ActionItemQuery:
    owner: str | None = None
    statuses: tuple[ActionItemStatus, ...] = ()
    #: True: pending and past due; False: not overdue; None: either.
    overdue: bool | None = None
    incident_id: str | None = None


def to_filter(query: ActionItemQuery, now: datetime) -> Doc:
    clauses: list[Doc] = []
    if query.owner is not None:
        clauses.append({"owner": query.owner})
    if query.statuses:
        clauses.append({"status": {"$in": [s.value for s in query.statuses]}})
    if query.incident_id is not None:
        clauses.append({"incidentId": query.incident_id})
    if query.overdue is True:
        clauses.append({"pending": True, "dueSort": {"$lt": now}})
    elif query.overdue is False:
        clauses.append({"$or": [{"pending": False}, {"dueSort": {"$gte": now}}]})
    if not clauses:
        return {}
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


class ActionItemStore:
    def __init__(self, database: Database, incidents: IncidentStore) -> None:
        self._db = database
        self._incidents = incidents
        self._items = database.collection("action_items")

    async def ensure_indexes(self) -> None:
        await self._db.ensure_indexes(INDEXES)

    async def get(self, item_id: str) -> ActionItem | None:
        doc = await self._items.find_one({"_id": item_id})
        return from_doc(doc) if doc else None

    async def for_incident(self, incident_id: str) -> list[ActionItem]:
        docs = await (
            self._items.find({"incidentId": incident_id}).sort(ORDER.sort).limit(MAX_PER_INCIDENT)
        ).to_list()
        return [from_doc(d) for d in docs]

    async def page(
        self, query: ActionItemQuery, now: datetime, first: int, after: str | None
    ) -> tuple[list[tuple[ActionItem, str]], bool]:
        mongo = to_filter(query, now)
        if after:
            keyset = after_filter(ORDER, decode_cursor(ORDER, after))
            mongo = {"$and": [mongo, keyset]} if mongo else keyset
        docs = await self._items.find(mongo).sort(ORDER.sort).limit(first + 1).to_list()
        return [(from_doc(d), encode_cursor(ORDER, d)) for d in docs[:first]], len(docs) > first

    async def count(self, query: ActionItemQuery, now: datetime) -> int:
        return await self._items.count_documents(to_filter(query, now))

    async def add(
        self, incident_id: str, cmd: domain.NewActionItem, *, now: datetime, actor: str
    ) -> ActionItem:
        item_id = str(ObjectId())
        return await self._write(
            incident_id,
            None,
            lambda _, incident: domain.add(cmd, incident, id=item_id, now=now, actor=actor),
        )

    async def update(
        self, item_id: str, command: Callable[[ActionItem, Incident], ActionItemChange]
    ) -> ActionItem:
        found = await self.get(item_id)
        if found is None:
            raise not_found("action item")

        def run(item: ActionItem | None, incident: Incident) -> ActionItemChange:
            if item is None:  # deleted meanwhile (items are never deleted today)
                raise not_found("action item")
            return command(item, incident)

        return await self._write(found.incident_id, item_id, run)

    async def _write(
        self,
        incident_id: str,
        item_id: str | None,
        command: Callable[[ActionItem | None, Incident], ActionItemChange],
    ) -> ActionItem:
        done: list[ActionItem] = []

        async def body(incident: Incident, session: AsyncClientSession) -> tuple[Event, ...]:
            done.clear()
            doc = await self._items.find_one({"_id": item_id}, session=session) if item_id else None
            current = from_doc(doc) if doc else None
            change = command(current, incident)
            done.append(change.item)
            if not change.events:
                return ()
            if current is None:
                await self._items.insert_one(to_doc(change.item), session=session)
            else:
                result = await self._items.replace_one(
                    {"_id": current.id, "version": current.version},
                    to_doc(change.item),
                    session=session,
                )
                if result.matched_count == 0:
                    raise Stale
            return change.events

        await self._incidents.beside(incident_id, body)
        return done[0]
