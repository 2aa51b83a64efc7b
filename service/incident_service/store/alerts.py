"""Alerts: intake (trigger, acknowledge, resolve) and reads.

A repeat of an open alert is one conditional update and nothing else. A first
trigger runs in one transaction: insert the alert (a unique partial index on
the open (integration, dedup key) settles concurrent firsts), then join the
group's open incident or open one (a unique partial index on the open
incidents' `alertGroup` settles concurrent groups). A loser of either race
starts over and finds the winner's alert or incident.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from incident_service.domain import alerts as domain
from incident_service.domain.alerts import Alert, Signal
from incident_service.domain.enums import (
    AlertAction,
    AlertStatus,
    MaintenanceStatus,
    Severity,
    UserErrorCode,
)
from incident_service.domain.errors import DomainError
from incident_service.domain.incident import Change, Incident
from incident_service.domain.integrations import Integration
from incident_service.store import codec
from incident_service.store.codec import Doc
from incident_service.store.database import Database
from incident_service.store.incidents import IncidentStore, Stale
from incident_service.store.paging import Order, after_filter, decode_cursor, encode_cursor

NEWEST = Order("NEWEST_FIRST", (("firstSeenAt", -1), ("_id", -1)))
#: Rounds of a write that lost a race (a concurrent first trigger, a stale incident).
_RETRIES = 8


def alert_to_doc(a: Alert) -> Doc:
    return {
        "_id": a.id,
        "integrationId": a.integration_id,
        "dedupKey": a.dedup_key,
        "group": a.group,
        "status": a.status.value,
        # In the unique partial index while open; false once resolved.
        "open": a.open,
        "summary": a.summary,
        "source": a.source,
        "severity": a.severity.value,
        # Pairs and a JSON string: a sender's keys never become field names or operators.
        "labels": [[k, v] for k, v in a.labels.items()],
        "details": json.dumps(dict(a.details), default=str, sort_keys=True),
        "component": a.component,
        "count": a.count,
        "firstSeenAt": a.first_seen_at,
        "lastSeenAt": a.last_seen_at,
        "resolvedAt": a.resolved_at,
        "incidentId": a.incident_id,
        "suppressed": a.suppressed,
    }


def alert_from_doc(d: Doc) -> Alert:
    return Alert(
        id=d["_id"],
        integration_id=d["integrationId"],
        dedup_key=d["dedupKey"],
        group=d.get("group") or d["dedupKey"],
        status=AlertStatus(d["status"]),
        summary=d["summary"],
        source=d["source"],
        severity=Severity(d["severity"]),
        labels={k: v for k, v in d.get("labels", [])},
        details=json.loads(d.get("details") or "{}"),
        component=d.get("component"),
        count=d.get("count", 1),
        first_seen_at=d["firstSeenAt"],
        last_seen_at=d["lastSeenAt"],
        resolved_at=d.get("resolvedAt"),
        incident_id=d.get("incidentId"),
        suppressed=d.get("suppressed", False),
    )


@dataclass(frozen=True)
class AlertQuery:
    status: AlertStatus | None = None
    integration_id: str | None = None
    incident_id: str | None = None
    severity: Severity | None = None

    def to_filter(self) -> Doc:
        found: Doc = {}
        if self.status is not None:
            found["status"] = self.status.value
        if self.integration_id is not None:
            found["integrationId"] = self.integration_id
        if self.incident_id is not None:
            found["incidentId"] = self.incident_id
        if self.severity is not None:
            found["severity"] = self.severity.value
        return found


@dataclass(frozen=True)
class Page:
    items: list[tuple[Alert, str]]
    has_next: bool


@dataclass(frozen=True)
class Outcome:
    """What an alert event did: the alert as it is now (None: nothing open to act on)."""

    alert: Alert | None
    created: bool = False
    #: A repeat of an open alert; its `alert` is read back only when asked for.
    repeated: bool = False

    def result(self, action: AlertAction) -> str:
        """The alerts metric's `result` label."""
        if self.repeated:
            return "repeat"
        if self.alert is None:
            return "ignored"
        if self.alert.suppressed:
            return "suppressed"
        if action is AlertAction.TRIGGER:
            return "new" if self.created else "repeat"
        return "acknowledged" if action is AlertAction.ACKNOWLEDGE else "resolved"


class AlertStore:
    def __init__(
        self, database: Database, incidents: IncidentStore, max_transactions: int = 4
    ) -> None:
        self._db = database
        self._alerts = database.alerts
        self._incidents = incidents
        # A storm of new alerts would otherwise start as many transactions as there
        # are requests; they conflict, abort and retry, and throughput collapses.
        # Queued here they commit one after another at full speed.
        self._transactions = asyncio.Semaphore(max_transactions)

    # Reads

    async def page(self, query: AlertQuery, first: int, after: str | None) -> Page:
        mongo = query.to_filter()
        if after:
            keyset = after_filter(NEWEST, decode_cursor(NEWEST, after))
            mongo = {"$and": [mongo, keyset]} if mongo else keyset
        docs = await self._alerts.find(mongo).sort(NEWEST.sort).limit(first + 1).to_list()
        items = [(alert_from_doc(d), encode_cursor(NEWEST, d)) for d in docs[:first]]
        return Page(items, has_next=len(docs) > first)

    async def count(self, query: AlertQuery) -> int:
        return await self._alerts.count_documents(query.to_filter())

    # Intake

    async def ingest(
        self, integration: Integration, signal: Signal, now: datetime, *, read_back: bool = False
    ) -> Outcome:
        """Apply one alert event; raises DomainError for a signal out of bounds.

        A repeat is one update and returns no alert unless `read_back` asks for it
        (the webhook endpoints answer without it).
        """
        signal = domain.check_signal(signal)
        actor = integration.principal().actor
        if signal.action is AlertAction.TRIGGER:
            outcome = await self._trigger(integration, signal, now, actor)
            if outcome.repeated and read_back:
                doc = await self._alerts.find_one(_open(integration, signal))
                return replace(outcome, alert=alert_from_doc(doc) if doc else None)
            return outcome
        if signal.action is AlertAction.ACKNOWLEDGE:
            return await self._retrying(lambda: self._acknowledge(integration, signal, now, actor))
        return await self._retrying(lambda: self._resolve(integration, signal, now, actor))

    async def _retrying(self, attempt: Callable[[], Awaitable[Outcome]]) -> Outcome:
        for _ in range(_RETRIES):
            try:
                return await attempt()
            except (DuplicateKeyError, Stale):
                continue
        raise DomainError(UserErrorCode.CONFLICT, "the alert is changing too fast; retry", None)

    async def _trigger(
        self, integration: Integration, signal: Signal, now: datetime, actor: str
    ) -> Outcome:
        async def attempt() -> Outcome:
            if await self._repeat(integration, signal, now):
                return Outcome(None, repeated=True)
            return await self._first(integration, signal, now, actor)

        return await self._retrying(attempt)

    async def _repeat(self, integration: Integration, signal: Signal, now: datetime) -> bool:
        """One conditional update; whether the signal's alert was open to fold into.

        `update_one`, not find-and-modify: on the embedded database the latter costs
        several times as much, and a storm's repeats need nothing back.
        """
        result = await self._alerts.update_one(
            _open(integration, signal), {"$inc": {"count": 1}, "$max": {"lastSeenAt": now}}
        )
        return result.matched_count > 0

    async def _first(
        self, integration: Integration, signal: Signal, now: datetime, actor: str
    ) -> Outcome:
        async def body(session: AsyncClientSession) -> Outcome:
            alert = domain.new_alert(signal, integration, alert_id=str(ObjectId()), now=now)
            service = await self._service_named(alert.component, session)
            if service is not None and await self._in_maintenance(service[0], session):
                # Expected during maintenance: kept for the record, opens nothing.
                alert = replace(alert, suppressed=True)
                await self._alerts.insert_one(alert_to_doc(alert), session=session)
                return Outcome(alert, created=True)
            await self._alerts.insert_one(alert_to_doc(alert), session=session)
            incident_id = await self._open_or_join(integration, alert, service, now, actor, session)
            await self._alerts.update_one(
                {"_id": alert.id}, {"$set": {"incidentId": incident_id}}, session=session
            )
            return Outcome(replace(alert, incident_id=incident_id), created=True)

        return await self._in_transaction(body)

    async def _open_or_join(
        self,
        integration: Integration,
        alert: Alert,
        service: tuple[str, str] | None,
        now: datetime,
        actor: str,
        session: AsyncClientSession,
    ) -> str:
        group = f"{integration.id}:{alert.group}"
        incidents = self._db.incidents
        current = await incidents.find_one({"alertGroup": group, "open": True}, session=session)
        service_id = service[0] if service else None
        if current is not None:
            incident = codec.incident_from_doc(current)
            change = domain.triggered(incident, alert, service_id, now=now, actor=actor)
            await self._incidents.write(change, incident, session)
            return incident.id
        previous = await incidents.find_one(
            {"alertGroup": group}, sort=[("number", -1)], session=session
        )
        # Outside the transaction: in a storm of new alerts every transaction would
        # otherwise write the one counter document and conflict with all the others.
        # A retried transaction leaves a gap in the INC numbers, nothing worse.
        number = await self._incidents.next_number(None)
        decl = domain.declaration(alert, integration, service_id)
        change = domain.open_incident(
            alert,
            decl,
            codec.incident_from_doc(previous) if previous else None,
            incident_id=str(ObjectId()),
            number=number.value,
            now=now,
            actor=actor,
        )
        await self._incidents.insert(change, session, counter=number.counter)
        return change.incident.id

    async def _acknowledge(
        self, integration: Integration, signal: Signal, now: datetime, actor: str
    ) -> Outcome:
        async def body(session: AsyncClientSession) -> Outcome:
            doc = await self._alerts.find_one_and_update(
                {**_open(integration, signal), "status": AlertStatus.TRIGGERED.value},
                {"$set": {"status": AlertStatus.ACKNOWLEDGED.value, "lastSeenAt": now}},
                return_document=ReturnDocument.AFTER,
                session=session,
            )
            if doc is None:
                # Already acknowledged, or nothing open: answer with what is there.
                current = await self._alerts.find_one(_open(integration, signal), session=session)
                return Outcome(alert_from_doc(current) if current else None)
            alert = alert_from_doc(doc)
            await self._change_incident(
                alert, lambda i: domain.acknowledged(i, alert, now=now, actor=actor), session
            )
            return Outcome(alert)

        return await self._in_transaction(body)

    async def _resolve(
        self, integration: Integration, signal: Signal, now: datetime, actor: str
    ) -> Outcome:
        async def body(session: AsyncClientSession) -> Outcome:
            doc = await self._alerts.find_one_and_update(
                _open(integration, signal),
                {
                    "$set": {
                        "status": AlertStatus.RESOLVED.value,
                        "open": False,
                        "resolvedAt": now,
                        "lastSeenAt": now,
                    }
                },
                return_document=ReturnDocument.AFTER,
                session=session,
            )
            if doc is None:
                return Outcome(None)
            alert = alert_from_doc(doc)
            still_open = (
                await self._alerts.count_documents(
                    {"incidentId": alert.incident_id, "open": True}, session=session
                )
                if alert.incident_id
                else 0
            )
            await self._change_incident(
                alert,
                lambda i: domain.resolved(i, alert, still_open, integration, now=now, actor=actor),
                session,
            )
            return Outcome(alert)

        return await self._in_transaction(body)

    async def _in_transaction(
        self, body: Callable[[AsyncClientSession], Awaitable[Outcome]]
    ) -> Outcome:
        """`body` in one transaction; its result from the attempt that committed."""
        results: list[Outcome] = []

        async def txn(session: AsyncClientSession) -> None:
            results.clear()
            results.append(await body(session))

        async with self._transactions:
            await self._db.transaction(txn)
        return results[0]

    async def _change_incident(
        self, alert: Alert, command: Callable[[Incident], Change], session: AsyncClientSession
    ) -> None:
        if alert.incident_id is None:
            return
        doc = await self._db.incidents.find_one({"_id": alert.incident_id}, session=session)
        if doc is None:
            return
        incident = codec.incident_from_doc(doc)
        if not incident.is_open:
            return
        await self._incidents.write(command(incident), incident, session)

    async def _service_named(
        self, name: str | None, session: AsyncClientSession
    ) -> tuple[str, str] | None:
        if not name:
            return None
        doc = await self._db.services.find_one({"name": name}, {"name": 1}, session=session)
        return (doc["_id"], doc["name"]) if doc else None

    async def _in_maintenance(self, service_id: str, session: AsyncClientSession) -> bool:
        window = await self._db.maintenances.find_one(
            {"serviceIds": service_id, "status": MaintenanceStatus.IN_PROGRESS.value},
            {"_id": 1},
            session=session,
        )
        return window is not None


def _open(integration: Integration, signal: Signal) -> Doc:
    """The signal's open alert: what the unique partial index keeps to one."""
    return {"integrationId": integration.id, "dedupKey": signal.dedup_key, "open": True}
