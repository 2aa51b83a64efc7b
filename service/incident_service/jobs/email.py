"""The email sender: the handler of one email job, on whichever replica claims it.

Renders the email from the subscriber and the message's public part, sends
it over SMTP outside any transaction, then records the result and the job's
next due time in one transaction guarded by the lease. A replica killed
between sending and recording leaves the job to another: an email may
arrive twice (with the same Message-ID), never zero times.
"""

from __future__ import annotations

import logging
from datetime import datetime
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Protocol

import aiosmtplib

from incident_service.domain import subscribers as domain
from incident_service.domain.subscribers import Links, SmtpServer
from incident_service.observability import metrics
from incident_service.store.jobs import Job
from incident_service.store.subscribers import CONFIRMATION, EmailStatus, SubscriberStore

log = logging.getLogger(__name__)

#: Seconds one SMTP conversation may take, connecting to the server's last answer.
SMTP_TIMEOUT = 30.0


class SendFailed(Exception):
    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.permanent = permanent


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None:
        """Hand the message over; SendFailed when the server did not take it."""
        ...


class SmtpMailer:
    """One SMTP conversation per email: simple, and nothing held open between messages."""

    def __init__(self, server: SmtpServer) -> None:
        self._server = server

    async def send(self, message: EmailMessage) -> None:
        s = self._server
        try:
            await aiosmtplib.send(
                message,
                hostname=s.host,
                port=s.port,
                username=s.username,
                password=s.password,
                use_tls=s.implicit_tls,
                # None: STARTTLS when the server offers it (smtp://).
                start_tls=False if s.implicit_tls else None,
                timeout=SMTP_TIMEOUT,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            raise SendFailed(
                f"recipient refused: {codes}", permanent=all(c >= 500 for c in codes)
            ) from None
        except aiosmtplib.SMTPAuthenticationError as exc:
            # Our credentials, not the address: worth trying again once they are fixed.
            raise SendFailed(f"SMTP login refused: {exc.code}", permanent=False) from None
        except aiosmtplib.SMTPResponseException as exc:
            raise SendFailed(
                f"SMTP {exc.code}: {exc.message}"[:300], permanent=exc.code >= 500
            ) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise SendFailed(f"{type(exc).__name__}: {exc}"[:300], permanent=False) from None


class LogMailer:
    """Development without SMTP_URL: the email is logged (links included), not sent."""

    async def send(self, message: EmailMessage) -> None:
        body = message.get_body(("plain",))
        text = body.get_content() if body is not None else ""
        log.info(
            "email not sent (no SMTP_URL) to %s: %s\n%s", message["To"], message["Subject"], text
        )


class EmailSender:
    def __init__(
        self, store: SubscriberStore, mailer: Mailer, *, sender: str, site: str, page_url: str
    ) -> None:
        self._store = store
        self._mailer = mailer
        self._sender = sender
        self._site = site
        self._links = Links(page_url)
        domain_part = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
        self._id_domain = domain_part

    async def send(self, job: Job, now: datetime) -> None:
        loaded = await self._store.load(job)
        if loaded is None:
            await self._store.record(job, EmailStatus.CANCELLED, "the email expired", None, now)
            return
        email, subscriber, message = loaded
        if email.get("status", EmailStatus.PENDING.value) != EmailStatus.PENDING.value:
            # Sent or given up before: a fan-out that ran again made this job anew.
            await self._store.skip(job)
            return
        kind = email["kind"]
        if subscriber is None:
            await self._store.record(job, EmailStatus.CANCELLED, "unsubscribed", None, now)
            return
        if kind == CONFIRMATION:
            token = email.get("confirmToken")
            if not token:
                await self._store.record(job, EmailStatus.CANCELLED, "already sent", None, now)
                return
            content: domain.Email | None = domain.confirmation(self._site, self._links, token)
            unsubscribe = None
        else:
            public = message.get("public") if message else None
            content = domain.notification(public, self._site, self._links) if public else None
            unsubscribe = self._links.unsubscribe(subscriber["unsubscribeToken"])
        if content is None or (kind != CONFIRMATION and not subscriber["confirmed"]):
            await self._store.record(job, EmailStatus.CANCELLED, "nothing to send", None, now)
            return
        mime = domain.compose(
            content,
            sender=self._sender,
            to=subscriber["email"],
            message_id=f"<{email['_id']}@{self._id_domain}>",
            now=now,
            unsubscribe_url=unsubscribe,
        )
        try:
            await self._mailer.send(mime)
        except SendFailed as exc:
            attempts = email.get("attempts", 0) + 1
            delay = None if exc.permanent else domain.retry_delay(attempts)
            metrics.EMAILS_SENT.labels(kind, "failed" if delay is None else "retried").inc()
            log.info("email %s: attempt %d failed: %s", email["_id"], attempts, exc)
            status = EmailStatus.FAILED if delay is None else EmailStatus.PENDING
            retry_at = now + delay if delay is not None else None
            await self._store.record(job, status, str(exc), retry_at, now)
            return
        metrics.EMAILS_SENT.labels(kind, "sent").inc()
        await self._store.record(job, EmailStatus.SENT, None, None, now)
