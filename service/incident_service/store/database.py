"""The MongoDB connection, the collections and their indexes."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC
from typing import Any

import pymongo
from pymongo import (
    ASCENDING,
    DESCENDING,
    AsyncMongoClient,
    IndexModel,
    MongoClient,
    ReturnDocument,
)
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import (
    BulkWriteError,
    CollectionInvalid,
    ConfigurationError,
    InvalidOperation,
    OperationFailure,
    PyMongoError,
)

from incident_service.store.codec import Doc
from incident_service.store.inserts import (
    CLIENT_BULK_WRITE_WIRE_VERSION,
    DUPLICATE_KEY,
    Inserts,
)
from incident_service.store.roundtrips import RoundTrips

log = logging.getLogger(__name__)

#: The body of a transaction: it may run more than once (transient errors are retried).
Transaction = Callable[[AsyncClientSession], Awaitable[Any]]

#: Longest a transaction, its retries included, may take (an election takes about 12 s).
TRANSACTION_SECONDS = 15.0
#: The server errors of a command it does not know or does not allow yet
#: (CommandNotFound, CommandNotSupported).
BULK_WRITE_REFUSED = frozenset({59, 115})
#: The server error of a create_collection that lost a race with another replica.
NAMESPACE_EXISTS = 48
#: How long outbound messages and the webhook delivery log are kept.
RETENTION_SECONDS = 30 * 86400

INDEXES: dict[str, list[IndexModel]] = {
    "incidents": [
        IndexModel([("number", ASCENDING)], unique=True, name="number_unique"),
        IndexModel(
            [("idempotencyKey", ASCENDING)],
            unique=True,
            partialFilterExpression={"idempotencyKey": {"$type": "string"}},
            name="idempotency_key_unique",
        ),
        # One index per list order (see store/paging.py), and one per equality
        # filter followed by the full newest-first key, so that a filtered
        # page is an index range already in order (no in-memory sort).
        IndexModel([("declaredAt", DESCENDING), ("_id", DESCENDING)], name="newest"),
        IndexModel(
            [("priority", ASCENDING), ("declaredAt", DESCENDING), ("_id", DESCENDING)],
            name="priority",
        ),
        *(
            IndexModel(
                [(field, ASCENDING), ("declaredAt", DESCENDING), ("_id", DESCENDING)],
                name=f"{name}_newest",
            )
            for field, name in (
                ("status", "status"),
                ("open", "open"),
                ("category", "category"),
                ("serviceIds", "service"),
                ("labels", "label"),
            )
        ),
        IndexModel([("visibility", ASCENDING), ("status", ASCENDING)], name="public_active"),
        # The SLA views: breached incidents newest first, and the next breaches soonest first.
        IndexModel(
            [("slaBreached", ASCENDING), ("declaredAt", DESCENDING), ("_id", DESCENDING)],
            name="sla_breached_newest",
        ),
        IndexModel([("slaDueAt", ASCENDING)], name="sla_due"),
        # Open incidents per priority: the incidents_open gauge (index-only counts).
        IndexModel([("open", ASCENDING), ("priority", ASCENDING)], name="open_priority"),
        # Published incidents resolved lately: the status page's history.
        IndexModel([("visibility", ASCENDING), ("resolvedAt", DESCENDING)], name="public_recent"),
        # The open incidents holding a component: its derived status.
        IndexModel(
            [("activeImpactServiceIds", ASCENDING), ("number", ASCENDING)],
            name="active_impacts",
        ),
        # One open incident per alert group: concurrent first alerts of a group
        # cannot open two (the loser joins the winner's incident).
        IndexModel(
            [("alertGroup", ASCENDING)],
            unique=True,
            partialFilterExpression={"alertGroup": {"$type": "string"}, "open": True},
            name="open_alert_group_unique",
        ),
        # The group's latest incident, to link a new one RELATED to it.
        IndexModel(
            [("alertGroup", ASCENDING), ("number", DESCENDING)],
            partialFilterExpression={"alertGroup": {"$type": "string"}},
            name="alert_group_latest",
        ),
    ],
    "incident_events": [
        IndexModel([("incidentId", ASCENDING), ("seq", ASCENDING)], unique=True, name="timeline"),
    ],
    "services": [
        IndexModel([("name", ASCENDING)], unique=True, name="name_unique"),
    ],
    "service_events": [
        IndexModel([("serviceId", ASCENDING), ("at", ASCENDING)], name="service_history"),
    ],
    "maintenances": [
        IndexModel([("startsAt", DESCENDING), ("_id", DESCENDING)], name="newest"),
        # In-progress windows on a component: its derived status.
        IndexModel([("serviceIds", ASCENDING), ("status", ASCENDING)], name="service_status"),
        # The status page: published windows by status, and the recently ended ones.
        IndexModel(
            [("published", ASCENDING), ("status", ASCENDING), ("endsAt", DESCENDING)],
            name="public_by_status",
        ),
        IndexModel([("status", ASCENDING), ("startsAt", DESCENDING)], name="status_newest"),
    ],
    "maintenance_events": [
        IndexModel([("maintenanceId", ASCENDING), ("at", ASCENDING)], name="history"),
    ],
    "alerts": [
        # One open alert per (integration, dedup key): the race between concurrent
        # first triggers is settled by the database, not by a read-then-write.
        IndexModel(
            [("integrationId", ASCENDING), ("dedupKey", ASCENDING)],
            unique=True,
            partialFilterExpression={"open": True},
            name="open_dedup_unique",
        ),
        IndexModel([("firstSeenAt", DESCENDING), ("_id", DESCENDING)], name="newest"),
        *(
            IndexModel(
                [(field, ASCENDING), ("firstSeenAt", DESCENDING), ("_id", DESCENDING)],
                name=f"{field}_newest",
            )
            for field in ("status", "integrationId", "incidentId", "severity")
        ),
        # Open alerts of an incident: whether its last one has resolved.
        IndexModel([("incidentId", ASCENDING), ("open", ASCENDING)], name="incident_open"),
    ],
    "jobs": [
        # The workers' claim: due pending jobs, oldest first.
        IndexModel([("status", ASCENDING), ("dueAt", ASCENDING)], name="due"),
        # Finished jobs are kept a week for inspection, then expire.
        IndexModel([("finishedAt", ASCENDING)], expireAfterSeconds=7 * 86400, name="expiry"),
    ],
    # Outbound messages, written in the transaction of the change that caused them.
    "outbox": [
        IndexModel([("at", ASCENDING)], expireAfterSeconds=RETENTION_SECONDS, name="expiry"),
    ],
    # Playbook templates (domain/templates.py); a built-in is loaded once.
    "incident_templates": [
        IndexModel(
            [("builtin", ASCENDING)],
            unique=True,
            partialFilterExpression={"builtin": {"$type": "string"}},
            name="builtin_unique",
        ),
    ],
    "webhook_endpoints": [
        IndexModel([("createdAt", DESCENDING), ("_id", DESCENDING)], name="newest"),
    ],
    "webhook_deliveries": [
        # An endpoint's delivery log, newest first (optionally by status).
        IndexModel(
            [("endpointId", ASCENDING), ("createdAt", DESCENDING), ("_id", DESCENDING)],
            name="endpoint_newest",
        ),
        IndexModel(
            [
                ("endpointId", ASCENDING),
                ("status", ASCENDING),
                ("createdAt", DESCENDING),
                ("_id", DESCENDING),
            ],
            name="endpoint_status_newest",
        ),
        IndexModel([("createdAt", ASCENDING)], expireAfterSeconds=RETENTION_SECONDS, name="expiry"),
    ],
    # Deliveries settled by their first attempt, many to a document
    # (store/delivery_batches.py).
    "webhook_delivery_batches": [
        IndexModel([("endpointIds", ASCENDING), ("newest", DESCENDING)], name="endpoint_newest"),
        IndexModel([("messageIds", ASCENDING)], name="messages"),
        IndexModel([("newest", ASCENDING)], expireAfterSeconds=RETENTION_SECONDS, name="expiry"),
    ],
    # Email subscribers of the status page (store/subscribers.py).
    "subscribers": [
        IndexModel([("emailKey", ASCENDING)], unique=True, name="email_unique"),
        IndexModel([("unsubscribeToken", ASCENDING)], unique=True, name="unsubscribe_token"),
        IndexModel(
            [("pending.tokenHash", ASCENDING)],
            unique=True,
            partialFilterExpression={"pending.tokenHash": {"$type": "string"}},
            name="confirm_token",
        ),
        # The fan-out reads the confirmed ones; the ADMIN list pages newest first.
        IndexModel([("confirmed", ASCENDING)], name="confirmed"),
        IndexModel([("createdAt", DESCENDING), ("_id", DESCENDING)], name="newest"),
        # Addresses never confirmed are forgotten when their link expires.
        IndexModel([("expiresAt", ASCENDING)], expireAfterSeconds=0, name="unconfirmed_expiry"),
    ],
    "emails": [
        IndexModel([("createdAt", ASCENDING)], expireAfterSeconds=RETENTION_SECONDS, name="expiry"),
    ],
}


async def deactivate(
    collection: AsyncCollection[Doc], doc_id: str, changes: Doc, hidden: Doc
) -> Doc | None:
    """Set `active: false` and `changes` on an active document, once: a document already
    inactive is returned unchanged (revoking twice is not an error). None: no such id."""
    doc = await collection.find_one_and_update(
        {"_id": doc_id, "active": True},
        {"$set": {"active": False, **changes}},
        projection=hidden,
        return_document=ReturnDocument.AFTER,
    )
    if doc is None:
        doc = await collection.find_one({"_id": doc_id}, projection=hidden)
    return doc


def refuses_bulk_write(exc: PyMongoError) -> bool:
    """The server does not take `bulkWrite`: it says so, or PyMongo saw an older wire
    version on the member it picked (not any InvalidOperation: a closed client is one)."""
    if isinstance(exc, OperationFailure):
        return exc.code in BULK_WRITE_REFUSED
    return "bulk_write requires" in str(exc)


class DatabaseUnavailable(Exception):
    """MONGODB_URI is malformed or the database does not answer; one-line message."""


def check_reachable(uri: str, timeout: float = 10.0) -> None:
    """Fail fast with one line before serving, instead of a traceback from the first query."""
    try:
        client: MongoClient[Doc] = MongoClient(
            uri, serverSelectionTimeoutMS=int(timeout * 1000), connect=False
        )
    except (ConfigurationError, ValueError, TypeError) as exc:
        raise DatabaseUnavailable(f"invalid setting MONGODB_URI: {exc}") from None
    try:
        client.admin.command("ping")
    except PyMongoError as exc:
        reason = str(exc).split(",")[0].split(" (configured timeouts")[0]
        raise DatabaseUnavailable(f"cannot reach the database at MONGODB_URI: {reason}") from None
    finally:
        client.close()


class Database:
    """Owns the client; hands out collections. One per process."""

    def __init__(
        self,
        uri: str,
        name: str,
        inserts_in_one_command: bool | None = None,
        app_name: str = "incident-service",
    ) -> None:
        """`inserts_in_one_command`: None asks the server on the first `insert_together`
        (MongoDB 8.0+ takes them in one command); tests force either path. `app_name`
        is how the server's logs (and a test's failpoints) tell this client apart."""
        self.client: AsyncMongoClient[Doc] = AsyncMongoClient(
            uri,
            tz_aware=True,
            tzinfo=UTC,
            serverSelectionTimeoutMS=5000,
            appname=app_name,
            event_listeners=[RoundTrips()],
        )
        self.db: AsyncDatabase[Doc] = self.client[name]
        self._inserts_in_one_command = inserts_in_one_command

    @property
    def incidents(self) -> AsyncCollection[Doc]:
        return self.db["incidents"]

    @property
    def incident_events(self) -> AsyncCollection[Doc]:
        return self.db["incident_events"]

    @property
    def services(self) -> AsyncCollection[Doc]:
        return self.db["services"]

    @property
    def service_events(self) -> AsyncCollection[Doc]:
        return self.db["service_events"]

    @property
    def maintenances(self) -> AsyncCollection[Doc]:
        return self.db["maintenances"]

    @property
    def maintenance_events(self) -> AsyncCollection[Doc]:
        return self.db["maintenance_events"]

    @property
    def alerts(self) -> AsyncCollection[Doc]:
        return self.db["alerts"]

    @property
    def jobs(self) -> AsyncCollection[Doc]:
        return self.db["jobs"]

    @property
    def outbox(self) -> AsyncCollection[Doc]:
        return self.db["outbox"]

    @property
    def webhook_endpoints(self) -> AsyncCollection[Doc]:
        return self.db["webhook_endpoints"]

    @property
    def webhook_deliveries(self) -> AsyncCollection[Doc]:
        return self.db["webhook_deliveries"]

    @property
    def webhook_delivery_batches(self) -> AsyncCollection[Doc]:
        return self.db["webhook_delivery_batches"]

    @property
    def subscribers(self) -> AsyncCollection[Doc]:
        return self.db["subscribers"]

    @property
    def emails(self) -> AsyncCollection[Doc]:
        return self.db["emails"]

    @property
    def counters(self) -> AsyncCollection[Doc]:
        return self.db["counters"]

    def collection(self, name: str) -> AsyncCollection[Doc]:
        return self.db[name]

    async def transaction(self, body: Transaction) -> None:
        """Run `body` in one multi-document transaction: all of its writes or none.

        The driver retries the body on transient errors, so it must only
        write through the session and keep no state across attempts.
        """
        # The driver retries a transaction for up to 120 s; a mutation that has not
        # committed after TRANSACTION_SECONDS answers an error instead of hanging.
        with pymongo.timeout(TRANSACTION_SECONDS):
            # Not causally consistent: the session runs this one transaction, whose reads
            # start from a fresh snapshot on the primary anyway. A causal session sends a
            # retried transaction's first command with `afterClusterTime`, which the
            # embedded database refuses on `bulkWrite` (store/inserts.py).
            async with self.client.start_session(causal_consistency=False) as session:
                await session.with_transaction(body)

    async def insert_together(self, inserts: Inserts, session: AsyncClientSession) -> None:
        """Write `inserts` in the caller's transaction, in one command where the server
        takes one (see store/inserts.py)."""
        if self._inserts_in_one_command is None:
            hello = await self.client.admin.command("hello")
            wire_version = hello.get("maxWireVersion", 0)
            self._inserts_in_one_command = wire_version >= CLIENT_BULK_WRITE_WIRE_VERSION
        if not self._inserts_in_one_command:
            await inserts.write(session, in_one_command=False)
            return
        try:
            await inserts.write(session, in_one_command=True)
        except (InvalidOperation, OperationFailure) as exc:
            if not refuses_bulk_write(exc):
                raise
            # An 8.0 server whose feature compatibility version is still 7.0, or a
            # failover to an older member mid-upgrade: from now on this process writes
            # one insert per collection. If the refusal ended the transaction, this
            # write fails as transient and the driver runs the transaction again.
            log.warning("the database refused bulkWrite (%s); inserting per collection", exc)
            self._inserts_in_one_command = False
            await inserts.write(session, in_one_command=False)

    async def insert_new(self, name: str, docs: list[Doc]) -> None:
        """Insert `docs` into collection `name`, skipping those whose key is taken: the
        write of a step that may run again (same ids) after a replica died in it."""
        if not docs:
            return
        try:
            await self.db[name].insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if exc.details.get("writeConcernErrors") or any(
                e.get("code") != DUPLICATE_KEY for e in errors
            ):
                raise

    async def ensure_indexes(self, indexes: Mapping[str, list[IndexModel]] = INDEXES) -> None:
        """Create the collections and their indexes.

        Idempotent: creating an index that exists with the same spec is a no-op, and a
        collection another replica created since the listing (several replicas starting
        on a new database at once) is taken as it is.
        """
        existing = set(await self.db.list_collection_names())
        for name, models in indexes.items():
            if name not in existing:
                try:
                    await self.db.create_collection(name)
                except CollectionInvalid:
                    pass
                except OperationFailure as exc:
                    if exc.code != NAMESPACE_EXISTS:
                        raise
            await self.db[name].create_indexes(models)

    async def ping(self) -> bool:
        try:
            await self.client.admin.command("ping")
        except Exception:
            return False
        return True

    async def close(self) -> None:
        await self.client.close()
