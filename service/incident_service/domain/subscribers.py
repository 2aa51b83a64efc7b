"""Email subscribers of the public status page, as values: tokens, who gets what, the emails.

No I/O. An email to a subscriber is built from a message's `public` part
only, never from its `data` (which holds internal fields for webhook
endpoints); a message without a `public` part is never emailed. Every value
that reaches the HTML part goes through `html.escape`.

The address syntax itself is checked with the `email-validator` library in
store/subscribers.py: this layer stays on the standard library.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from html import escape
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from incident_service.domain import notifications, validation
from incident_service.domain.errors import validation as invalid
from incident_service.domain.notifications import Message

CONFIRM_PREFIX = "sc_"
UNSUBSCRIBE_PREFIX = "su_"
#: Longer tokens are not looked up (a prefix and 43 base64url characters).
TOKEN_MAX = 64
#: Components one subscriber may choose.
SERVICE_IDS_MAX = 100
#: Waits before each retry of a failed send, in seconds; one attempt more than waits.
RETRY_SCHEDULE = (60.0, 300.0, 1800.0, 7200.0, 21600.0)


@dataclass(frozen=True)
class Subscriber:
    id: str
    email: str
    #: The components chosen; empty: all of them.
    service_ids: tuple[str, ...]
    confirmed: bool
    created_at: datetime
    confirmed_at: datetime | None = None


def mint_token(prefix: str) -> str:
    """256 random bits; the prefix says what the token is for (confirm or unsubscribe),
    and each is looked up only where it belongs."""
    return prefix + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_shape(token: str | None, prefix: str) -> str | None:
    """The token if it could be one of this kind, else None (never looked up)."""
    if not token or len(token) > TOKEN_MAX or not token.startswith(prefix):
        return None
    return token


def check_service_ids(raw: Sequence[str]) -> tuple[str, ...]:
    """Valid ids, each once; whether they are public components is the store's question."""
    if len(raw) > SERVICE_IDS_MAX:
        raise invalid("serviceIds", f"at most {SERVICE_IDS_MAX} components may be chosen")
    return tuple(dict.fromkeys(validation.object_id(i, "serviceIds") for i in raw))


def wants(service_ids: Sequence[str], message: Message) -> bool:
    """Whether a confirmed subscriber with this choice gets the message: it must have a
    public part, and concern a chosen component (any message, when none are chosen)."""
    return message.public is not None and notifications.wanted([message.type], service_ids, message)


def retry_delay(attempts: int) -> timedelta | None:
    """The wait after the `attempts`-th failed attempt; None: give up."""
    if attempts > len(RETRY_SCHEDULE):
        return None
    return timedelta(seconds=RETRY_SCHEDULE[attempts - 1])


# --- SMTP_URL ------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    username: str | None
    password: str | None
    #: smtps://: TLS from the first byte; smtp://: STARTTLS when the server offers it.
    implicit_tls: bool


def parse_smtp_url(url: str) -> SmtpServer:
    """`smtp://user:pass@host:587` or `smtps://user:pass@host:465`; ValueError otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError("must start with smtp:// or smtps://")
    if not parts.hostname:
        raise ValueError("names no host")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("has an invalid port") from None
    implicit = parts.scheme == "smtps"
    return SmtpServer(
        host=parts.hostname,
        port=port or (465 if implicit else 587),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        implicit_tls=implicit,
    )


# --- The emails ----------------------------------------------------------------------


@dataclass(frozen=True)
class Links:
    """The public pages an email points to, below the status page's address."""

    page: str

    def confirm(self, token: str) -> str:
        return f"{self.page}/subscriptions/confirm?token={quote(token, safe='')}"

    def unsubscribe(self, token: str) -> str:
        return f"{self.page}/subscriptions/unsubscribe?token={quote(token, safe='')}"

    def incident(self, key: str) -> str:
        return f"{self.page}/incidents/{quote(key, safe='')}"


@dataclass(frozen=True)
class Email:
    subject: str
    text: str
    html: str


def _label(value: Any) -> str:
    """MAJOR_OUTAGE -> "Major outage": the words the status page shows."""
    return str(value or "").replace("_", " ").capitalize()


def _line(value: Any) -> str:
    """One line of text (a header, a subject): whitespace runs, newlines included, fold to
    one space, so no value can add a header."""
    return " ".join(str(value or "").split())


def notification(public: Mapping[str, Any], site: str, links: Links) -> Email | None:
    """The email of a message's public part; None for a kind this does not know."""
    kind = public.get("kind")
    facts: list[tuple[str, str]] = []
    body = public.get("body")
    link = links.page
    if kind == "incident":
        subject = f"[{_label(public['publicStatus'])}] {_line(public['title'])}"
        heading = _line(public["title"])
        facts = [("Status", _label(public["publicStatus"])), ("Incident", str(public["key"]))]
        link = links.incident(str(public["key"]))
    elif kind == "component":
        subject = f"{_line(public['name'])}: {_label(public['status'])}"
        heading = subject
        facts = [("Now", _label(public["status"])), ("Before", _label(public["previousStatus"]))]
    elif kind == "maintenance":
        subject = f"Maintenance {_label(public['status']).lower()}: {_line(public['title'])}"
        heading = _line(public["title"])
        facts = [
            ("Status", _label(public["status"])),
            ("Starts", str(public.get("startsAt") or "")),
            ("Ends", str(public.get("endsAt") or "")),
        ]
        body = body or public.get("description")
    elif kind == "postmortem":
        subject = f"Postmortem: {_line(public['title'])}"
        heading = subject
        facts = [("Incident", str(public["key"]))]
        body = "\n\n".join(
            f"{label}: {public[field]}" if label else str(public[field])
            for label, field in (("", "summary"), ("Customer impact", "customerImpact"),
                                 ("Resolution", "resolution"))
            if public.get(field)
        )  # fmt: skip
        link = links.incident(str(public["key"]))
    else:
        return None
    facts.append(("At", str(public.get("at") or "")))
    return _email(f"{_line(site)}: {subject}", heading, facts, body, link)


def confirmation(site: str, links: Links, token: str) -> Email:
    """The double opt-in: nothing else is sent until the link is followed."""
    text = (
        f"Someone (we hope you) asked for email updates from {_line(site)}.\n\n"
        f"Confirm the subscription by opening this link:\n{links.confirm(token)}\n\n"
        "If you did not ask for this, ignore this email: nothing more will be sent.\n"
    )
    html = (
        f"<p>Someone (we hope you) asked for email updates from {escape(_line(site))}.</p>"
        f'<p><a href="{escape(links.confirm(token))}">Confirm the subscription</a></p>'
        "<p>If you did not ask for this, ignore this email: nothing more will be sent.</p>"
    )
    return Email(f"{_line(site)}: confirm your subscription", text, _page(html))


def _email(subject: str, heading: str, facts: list[tuple[str, str]], body: Any, link: str) -> Email:
    shown = [(k, v) for k, v in facts if v]
    text = "\n".join([heading, "", *(f"{k}: {v}" for k, v in shown)])
    html = f"<h1>{escape(heading)}</h1><ul>" + "".join(
        f"<li><strong>{escape(k)}:</strong> {escape(v)}</li>" for k, v in shown
    )
    html += "</ul>"
    if body:
        text += f"\n\n{body}"
        paragraphs = (p for p in str(body).split("\n\n") if p.strip())
        html += "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    text += f"\n\nCurrent status: {link}\n"
    html += f'<p><a href="{escape(link)}">See the current status</a></p>'
    return Email(_line(subject), text, _page(html))


def _page(inner: str) -> str:
    return f'<!doctype html><html><body style="font-family:sans-serif">{inner}</body></html>'


def compose(
    email: Email,
    *,
    sender: str,
    to: str,
    message_id: str,
    now: datetime,
    unsubscribe_url: str | None,
) -> EmailMessage:
    """The MIME message: text and HTML alternatives; with an unsubscribe link, the
    `List-Unsubscribe` / `List-Unsubscribe-Post` headers of RFC 8058 (one-click)."""
    text, html = email.text, email.html
    if unsubscribe_url is not None:
        text += f"\n--\nUnsubscribe: {unsubscribe_url}\n"
        footer = f'<p><small><a href="{escape(unsubscribe_url)}">Unsubscribe</a></small></p>'
        html = html.replace("</body>", footer + "</body>")
    message = EmailMessage()
    message["Subject"] = email.subject
    message["From"] = sender
    message["To"] = to
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id
    # Out-of-office robots should not answer, and mail clients may group these.
    message["Auto-Submitted"] = "auto-generated"
    if unsubscribe_url is not None:
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message
