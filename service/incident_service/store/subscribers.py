"""Email subscribers of the status page, and the emails sent to them.

A subscriber is an outbox audience: fanning a message with a public part
out writes one email (and its job) per confirmed subscriber who wants it,
with the id `<messageId>.<subscriberId>`, so a fan-out cannot send twice.
The confirmation email of the double opt-in is written with the
subscription itself. The sender (jobs/email.py) sends outside any
transaction and records the result with `record`, guarded by the job's
lease.

Tokens: the confirm token is stored only as its SHA-256 (it is looked up,
never shown again), except in the pending confirmation email until that is
sent. The unsubscribe token is stored as it is: every email must carry it,
and it can do nothing but remove its own address (docs/decisions.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum

from bson import ObjectId
from email_validator import EmailNotValidError, validate_email
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from incident_service.domain import subscribers as domain
from incident_service.domain.errors import validation as invalid
from incident_service.domain.notifications import Message
from incident_service.domain.subscribers import Subscriber
from incident_service.domain.webhooks import FirstAttempt
from incident_service.store.codec import Doc
from incident_service.store.database import Database
from incident_service.store.jobs import Job, JobStore, new_job
from incident_service.store.outbox import Outbox, Recipients, record_id, records_of
from incident_service.store.paging import Order, after_filter, decode_cursor, encode_cursor

KIND = "email"
ORDER = Order("NEWEST_FIRST", (("createdAt", -1), ("_id", -1)))
CONFIRMATION = "confirmation"
NOTIFICATION = "notification"


class EmailStatus(StrEnum):
    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class Confirmed(StrEnum):
    CONFIRMED = "CONFIRMED"
    EXPIRED = "EXPIRED"
    INVALID = "INVALID"


def normalize_email(raw: str) -> str:
    """The address as mail is sent to it; VALIDATION naming `email` otherwise. Syntax only:
    no DNS lookup (slow, and it would tell a visitor which domains we can reach)."""
    if len(raw) > 320:  # RFC 5321's longest path; spares the validator hostile sizes
        raise invalid("email", "email is not a valid address: it is too long")
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise invalid("email", f"email is not a valid address: {exc}") from None


def subscriber_from_doc(d: Doc) -> Subscriber:
    return Subscriber(
        id=d["_id"],
        email=d["email"],
        service_ids=tuple(d.get("serviceIds", ())),
        confirmed=d.get("confirmed", False),
        created_at=d["createdAt"],
        confirmed_at=d.get("confirmedAt"),
    )


def job_id(email_id: str) -> str:
    return f"{KIND}:{email_id}"


class SubscriberStore:
    def __init__(
        self,
        database: Database,
        jobs: JobStore,
        outbox: Outbox,
        *,
        confirm_lifetime: timedelta,
        address_interval: timedelta,
    ) -> None:
        self._db = database
        self._jobs = jobs
        self._confirm_lifetime = confirm_lifetime
        self._address_interval = address_interval
        self._outbox = outbox
        outbox.add_audience(self)

    # Subscribing

    async def subscribe(self, raw_email: str, raw_service_ids: list[str], now: datetime) -> None:
        """Ask `email` to confirm a subscription to these components (all when none).

        Answers the same whether the address is new, pending or confirmed, and
        whether or not a confirmation goes out: at most one per address per
        `address_interval`, so nobody can flood an inbox through this form.
        """
        email = normalize_email(raw_email)
        service_ids = domain.check_service_ids(raw_service_ids)
        await self._require_public(service_ids)
        token = domain.mint_token(domain.CONFIRM_PREFIX)
        hashed = domain.hash_token(token)
        pending = {
            "serviceIds": list(service_ids),
            "tokenHash": hashed,
            "expiresAt": now + self._confirm_lifetime,
        }

        async def txn(session: AsyncClientSession) -> None:
            subscribers = self._db.subscribers
            doc = await subscribers.find_one({"emailKey": email.casefold()}, session=session)
            if doc is not None and now - doc["confirmationSentAt"] < self._address_interval:
                return
            if doc is None:
                doc = {
                    "_id": str(ObjectId()),
                    "email": email,
                    "emailKey": email.casefold(),
                    "serviceIds": [],
                    "confirmed": False,
                    "createdAt": now,
                    "unsubscribeToken": domain.mint_token(domain.UNSUBSCRIBE_PREFIX),
                    "pending": pending,
                    "confirmationSentAt": now,
                    # An address nobody confirms is forgotten (TTL index).
                    "expiresAt": pending["expiresAt"],
                }
                await subscribers.insert_one(doc, session=session)
            else:
                changes: Doc = {"pending": pending, "confirmationSentAt": now}
                if not doc["confirmed"]:
                    changes["expiresAt"] = pending["expiresAt"]
                await subscribers.update_one(
                    {"_id": doc["_id"]}, {"$set": changes}, session=session
                )
            email_id = f"{CONFIRMATION}.{doc['_id']}.{hashed[:16]}"
            await self._db.emails.insert_one(
                {
                    "_id": email_id,
                    "kind": CONFIRMATION,
                    "subscriberId": doc["_id"],
                    # The one place the confirm token is kept whole, until it is sent.
                    "confirmToken": token,
                    "status": EmailStatus.PENDING.value,
                    "attempts": 0,
                    "createdAt": now,
                },
                session=session,
            )
            await self._jobs.enqueue(
                [new_job(job_id(email_id), KIND, email_id, now, KIND)], session
            )

        # Before the subscriber is written: from now on every change writes its messages.
        await self._outbox.audience_arriving()
        try:
            await self._db.transaction(txn)
        except DuplicateKeyError:
            # The same new address, subscribed at the same moment elsewhere: that one
            # sends the confirmation.
            return

    async def _require_public(self, service_ids: tuple[str, ...]) -> None:
        if not service_ids:
            return
        docs = await self._db.services.find(
            {"_id": {"$in": list(service_ids)}, "public": {"$ne": False}}, projection={"_id": 1}
        ).to_list()
        found = {d["_id"] for d in docs}
        # An internal component is as unknown to a visitor as one that does not exist.
        missing = [i for i in service_ids if i not in found]
        if missing:
            raise invalid("serviceIds", f"unknown component id(s): {', '.join(missing)}")

    async def confirm(self, token: str | None, now: datetime) -> Confirmed:
        checked = domain.token_shape(token, domain.CONFIRM_PREFIX)
        if checked is None:
            return Confirmed.INVALID
        hashed = domain.hash_token(checked)
        doc = await self._db.subscribers.find_one({"pending.tokenHash": hashed})
        if doc is None:
            return Confirmed.INVALID
        if doc["pending"]["expiresAt"] <= now:
            return Confirmed.EXPIRED
        result = await self._db.subscribers.update_one(
            {"_id": doc["_id"], "pending.tokenHash": hashed},
            {
                "$set": {
                    "confirmed": True,
                    "confirmedAt": doc.get("confirmedAt") or now,
                    "serviceIds": doc["pending"]["serviceIds"],
                },
                "$unset": {"pending": "", "expiresAt": ""},
            },
        )
        return Confirmed.CONFIRMED if result.modified_count else Confirmed.INVALID

    async def unsubscribe(self, token: str | None) -> bool:
        """Forget the address (and so every email still queued for it)."""
        checked = domain.token_shape(token, domain.UNSUBSCRIBE_PREFIX)
        if checked is None:
            return False
        result = await self._db.subscribers.delete_one({"unsubscribeToken": checked})
        return bool(result.deleted_count)

    async def by_unsubscribe_token(self, token: str | None) -> Subscriber | None:
        checked = domain.token_shape(token, domain.UNSUBSCRIBE_PREFIX)
        if checked is None:
            return None
        doc = await self._db.subscribers.find_one({"unsubscribeToken": checked})
        return subscriber_from_doc(doc) if doc else None

    # ADMIN

    async def page(
        self, first: int, after: str | None
    ) -> tuple[list[tuple[Subscriber, str]], bool]:
        query: Doc = {}
        if after:
            query = after_filter(ORDER, decode_cursor(ORDER, after))
        docs = await self._db.subscribers.find(query).sort(ORDER.sort).limit(first + 1).to_list()
        return [(subscriber_from_doc(d), encode_cursor(ORDER, d)) for d in docs[:first]], (
            len(docs) > first
        )

    async def count(self) -> int:
        return await self._db.subscribers.count_documents({})

    async def remove(self, subscriber_id: str) -> Subscriber | None:
        doc = await self._db.subscribers.find_one_and_delete({"_id": subscriber_id})
        return subscriber_from_doc(doc) if doc else None

    # Fan-out (the outbox audience)

    async def recipients(
        self,
        message_id: str,
        message: Message,
        target: str | None,
        sent: Mapping[str, FirstAttempt],
    ) -> Recipients | None:
        if target is not None or message.public is None:
            return None
        docs = await self._db.subscribers.find(
            {"confirmed": True}, projection={"serviceIds": 1}
        ).to_list()
        emails = [
            {
                "_id": record_id(message_id, d["_id"]),
                "kind": NOTIFICATION,
                "subscriberId": d["_id"],
                "messageId": message_id,
                "status": EmailStatus.PENDING.value,
                "attempts": 0,
                "createdAt": message.at,
            }
            for d in docs
            if domain.wants(d.get("serviceIds", ()), message)
        ]
        if not emails:
            return None
        # One group for all email: a public update to many subscribers takes a few of the
        # worker's slots, never all of them (webhooks and timers keep running).
        jobs = [new_job(job_id(e["_id"]), KIND, e["_id"], message.at, KIND) for e in emails]
        return Recipients("emails", emails, jobs)

    async def pending_jobs(self, message_id: str, now: datetime) -> list[Doc]:
        """Jobs for this message's emails still pending, as stored."""
        emails = await self._db.emails.find(
            {
                **records_of(message_id),
                "status": EmailStatus.PENDING.value,
            },
            projection={"_id": 1},
        ).to_list()
        return [new_job(job_id(e["_id"]), KIND, e["_id"], now, KIND) for e in emails]

    # Sending

    async def load(self, job: Job) -> tuple[Doc, Doc | None, Doc | None] | None:
        """What a send needs: the email, its subscriber and (a notification's) message."""
        email = await self._db.emails.find_one({"_id": job.ref})
        if email is None:
            return None
        subscriber = await self._db.subscribers.find_one({"_id": email["subscriberId"]})
        message = None
        if email["kind"] == NOTIFICATION:
            message = await self._db.outbox.find_one({"_id": email["messageId"]})
        return email, subscriber, message

    async def skip(self, job: Job) -> None:
        """Settle the job of an email that is no longer pending, sending nothing."""
        await self._jobs.settle(job, None)

    async def record(
        self,
        job: Job,
        status: EmailStatus,
        error: str | None,
        next_attempt: datetime | None,
        now: datetime,
    ) -> None:
        """An attempt's outcome and the job's next due time, in one transaction; raises
        LeaseLost if another worker took the job meanwhile."""
        fields: Doc = {"status": status.value, "error": error, "nextAttemptAt": next_attempt}
        if status is EmailStatus.SENT:
            fields["sentAt"] = now
        update: Doc = {"$set": fields, "$inc": {"attempts": 1}}
        if status is not EmailStatus.PENDING:
            # Sent or given up: the confirm token is no longer kept whole anywhere.
            update["$unset"] = {"confirmToken": ""}

        async def txn(session: AsyncClientSession) -> None:
            await self._db.emails.update_one({"_id": job.ref}, update, session=session)
            await self._jobs.settle(job, next_attempt, session)

        await self._db.transaction(txn)
