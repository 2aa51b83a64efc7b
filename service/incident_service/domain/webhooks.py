"""Webhook endpoints and deliveries as values: validation, signing, bodies, retry policy.

No I/O. Signatures follow the Standard Webhooks specification
(https://www.standardwebhooks.com): the secret is `whsec_` + base64 of
random bytes; each delivery is signed as
`base64(HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>"))`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import random
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from incident_service.domain import notifications, validation
from incident_service.domain.errors import validation as invalid
from incident_service.domain.notifications import Message, iso

SECRET_PREFIX = "whsec_"
URL_MAX = 2000
DESCRIPTION_MAX = 500
#: A secret replaced by `rotateWebhookSecret` still signs (as a second signature) this
#: long, so receivers can switch without dropping deliveries.
ROTATION_OVERLAP = timedelta(hours=24)
#: The longest `Retry-After` obeyed: a receiver cannot park its messages for days.
RETRY_AFTER_MAX = 3600.0


class WebhookFormat(StrEnum):
    STANDARD = "STANDARD"
    SLACK = "SLACK"


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


@dataclass(frozen=True)
class EndpointSpec:
    """A checked endpoint definition (create, or the fields an update sets)."""

    url: str
    description: str | None
    event_types: tuple[str, ...]
    service_ids: tuple[str, ...]
    format: WebhookFormat


@dataclass(frozen=True)
class Endpoint:
    id: str
    url: str
    description: str | None
    event_types: tuple[str, ...]
    service_ids: tuple[str, ...]
    format: WebhookFormat
    enabled: bool
    created_at: datetime
    updated_at: datetime
    created_by: str
    version: int
    secret: str
    #: The secret before the last rotation, still signing until `previous_secret_until`.
    previous_secret: str | None = None
    previous_secret_until: datetime | None = None
    disabled_reason: str | None = None
    disabled_at: datetime | None = None
    #: Messages in a row that failed for good (every attempt used).
    consecutive_failures: int = 0

    def signing_secrets(self, now: datetime) -> tuple[str, ...]:
        if self.previous_secret and self.previous_secret_until and now < self.previous_secret_until:
            return (self.secret, self.previous_secret)
        return (self.secret,)


@dataclass(frozen=True)
class AttemptRecord:
    at: datetime
    status_code: int | None
    latency_ms: int
    error: str | None


@dataclass(frozen=True)
class Delivery:
    id: str
    endpoint_id: str
    message_id: str
    type: str
    status: DeliveryStatus
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    last_attempt: AttemptRecord | None = None
    #: The latest attempts, newest last (a few only).
    history: tuple[AttemptRecord, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class Verdict:
    """What one attempt means for its delivery and its endpoint."""

    status: DeliveryStatus
    next_attempt_at: datetime | None
    #: The message failed for good: one more consecutive failure of the endpoint.
    failed_for_good: bool
    #: Disable the endpoint now (410 Gone), with this reason.
    disable_reason: str | None = None


@dataclass(frozen=True)
class FirstAttempt:
    """What a message's fan-out did for one endpoint before it wrote the delivery.

    The fan-out sends to endpoints that answered well so far itself, so most
    deliveries are written once, with their outcome, instead of queued as jobs
    of their own (jobs/webhooks.py)."""

    #: None: no answer within the fan-out's budget; the request goes on, and the
    #: delivery's own job takes over at `verdict.next_attempt_at`.
    record: AttemptRecord | None
    verdict: Verdict


def judge(
    attempts: int,
    record: AttemptRecord,
    schedule: Sequence[float],
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> Verdict:
    """The delivery's state after its `attempts`-th attempt ended as `record`."""
    verdict = outcome(record.status_code)
    if verdict is Outcome.SUCCESS:
        return Verdict(DeliveryStatus.SUCCEEDED, None, failed_for_good=False)
    if verdict is Outcome.GONE:
        return Verdict(DeliveryStatus.FAILED, None, True, "the receiver answered 410 Gone")
    delay = retry_delay(attempts, schedule, retry_after, rng)
    if delay is None:
        return Verdict(DeliveryStatus.FAILED, None, failed_for_good=True)
    return Verdict(DeliveryStatus.PENDING, record.at + delay, failed_for_good=False)


def mint_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def check_url(raw: str, field: str = "url") -> str:
    """An absolute http(s) URL with a host and no credentials; where it points is checked
    when it is resolved (see `forbidden_address`)."""
    url = raw.strip()
    if not url:
        raise invalid(field, f"{field} must not be empty")
    if len(url) > URL_MAX:
        raise invalid(field, f"{field} must be at most {URL_MAX} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise invalid(field, f"{field} is not a valid URL") from None
    if parts.scheme not in ("http", "https"):
        raise invalid(field, f"{field} must be an http or https URL (got {parts.scheme!r})")
    if not parts.hostname:
        raise invalid(field, f"{field} must name a host")
    if parts.username is not None or parts.password is not None:
        raise invalid(field, f"{field} must not carry a user name or password")
    if port == 0:
        raise invalid(field, f"{field} has an invalid port")
    if any(c.isspace() for c in url):
        raise invalid(field, f"{field} must not contain spaces")
    try:
        # An internationalised host is sent in its ASCII (IDNA) form.
        ascii_host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError:
        raise invalid(field, f"{field} host {parts.hostname!r} is not a valid name") from None
    if ascii_host != parts.hostname:
        host = f"[{ascii_host}]" if ":" in ascii_host else ascii_host
        url = urlunsplit(parts._replace(netloc=host + (f":{port}" if port else "")))
    if not url.isascii():
        raise invalid(field, f"{field} must be ASCII: percent-encode other characters in the path")
    return url


def literal_address(url: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address a URL names literally, if it names one."""
    host = urlsplit(url).hostname or ""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def forbidden_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Loopback, private, link-local (cloud metadata lives there), multicast, reserved or
    unspecified: not a public receiver, so a webhook must not reach it."""
    if isinstance(address, ipaddress.IPv6Address):
        if any(address in net for net in _FORBIDDEN_V6):
            return True
        embedded = _embedded_v4(address)
        if embedded is not None:
            return forbidden_address(embedded)
    return not address.is_global or address.is_multicast


#: IPv6 ranges refused outright: site-local (deprecated, still routed in places),
#: IPv4-translated, and the local-use NAT64 prefix (it may reach any private IPv4).
_FORBIDDEN_V6 = tuple(
    ipaddress.IPv6Network(n) for n in ("fec0::/10", "::ffff:0:0:0/96", "64:ff9b:1::/48")
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_COMPATIBLE = ipaddress.IPv6Network("::/96")


def _embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one leads to: mapped, 6to4, NAT64, IPv4-compatible."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or (address in _COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def check_event_types(values: Sequence[str], field: str = "eventTypes") -> tuple[str, ...]:
    if not values:
        raise invalid(field, f"{field} must name at least one event type")
    known = set(notifications.EVENT_TYPES)
    unknown = [v for v in values if v not in known]
    if unknown:
        raise invalid(
            field,
            f"unknown event type {unknown[0]!r}; known: {', '.join(notifications.EVENT_TYPES)}",
        )
    return tuple(dict.fromkeys(values))


def check_spec(
    url: str,
    description: str | None,
    event_types: Sequence[str],
    service_ids: Sequence[str],
    format: WebhookFormat,
    *,
    allow_private: bool,
) -> EndpointSpec:
    checked = check_url(url)
    if not allow_private:
        address = literal_address(checked)
        if address is not None and forbidden_address(address):
            raise invalid("url", f"url points at a private or local address ({address})")
    text = validation.text(description, "description")
    if text is not None and len(text) > DESCRIPTION_MAX:
        raise invalid("description", f"description must be at most {DESCRIPTION_MAX} characters")
    return EndpointSpec(
        checked, text, check_event_types(event_types), tuple(dict.fromkeys(service_ids)), format
    )


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64>` signature of the Standard Webhooks scheme."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secrets_: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers; several secrets give space-separated signatures."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signature(s, msg_id, timestamp, body) for s in secrets_),
    }


def standard_body(type_: str, at: datetime, data: dict[str, Any]) -> bytes:
    return json.dumps(
        {"type": type_, "timestamp": iso(at), "data": data}, separators=(",", ":")
    ).encode()


def slack_body(message: Message, status_url: str | None) -> bytes:
    """A Slack incoming-webhook message: `text` for notifications, `blocks` for the channel."""
    headline = _escaped(_headline(message))
    lines = [f"*{headline}*"]
    detail = _detail(message)
    if detail:
        lines.append(_escaped(detail))
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)[:2900]}},
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"`{message.type}` · {iso(message.at)}"}],
        },
    ]
    if status_url:
        blocks[1]["elements"].append({"type": "mrkdwn", "text": f"<{status_url}|Status page>"})
    return json.dumps({"text": headline[:300], "blocks": blocks}).encode()


def _escaped(text: str) -> str:
    """Slack's mrkdwn control characters: a title cannot ping <!channel> or fake a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _headline(message: Message) -> str:
    data = message.data
    if "incident" in data:
        inc = data["incident"]
        label = f"{inc['key']} ({inc['priority']}) {inc['title']}"
        verbs = {
            notifications.INCIDENT_DECLARED: "Incident declared",
            notifications.INCIDENT_STATUS_CHANGED: f"{data.get('from')} → {data.get('to')}",
            notifications.INCIDENT_RESOLVED: "Resolved",
            notifications.INCIDENT_UPDATED: "Updated",
            notifications.INCIDENT_UPDATE_POSTED: "Update posted",
            notifications.ALERT_TRIGGERED: "Alert triggered",
            notifications.ALERT_ACKNOWLEDGED: "Alert acknowledged",
            notifications.ALERT_RESOLVED: "Alert resolved",
        }
        return f"{verbs.get(message.type, message.type)}: {label}"
    if "component" in data:
        c = data["component"]
        return f"{c['name']}: {c['previousStatus']} → {c['status']}"
    if "maintenance" in data:
        m = data["maintenance"]
        return f"Maintenance {m['status'].lower().replace('_', ' ')}: {m['title']}"
    return str(data.get("message", message.type))


def _detail(message: Message) -> str | None:
    data = message.data
    if "update" in data:
        return f"[{data['update']['visibility']}] {data['update']['body']}"
    if "changes" in data:
        return "\n".join(f"• {c['message']}" for c in data["changes"] if c.get("message"))
    if data.get("event"):
        return str(data["event"].get("message") or "")
    if "component" in data and data["component"].get("reason"):
        return str(data["component"]["reason"])
    if "maintenance" in data:
        m = data["maintenance"]
        return f"{m['startsAt']} to {m['endsAt']}"
    return None


def test_message(now: datetime, endpoint_id: str) -> Message:
    return Message(
        notifications.WEBHOOK_TEST,
        now,
        {"endpointId": endpoint_id, "message": "Test delivery from incident-service"},
    )


# Delivery outcomes and retries


class Outcome(StrEnum):
    SUCCESS = "SUCCESS"
    RETRY = "RETRY"
    GONE = "GONE"


def outcome(status_code: int | None) -> Outcome:
    """2xx is delivered; 410 means the receiver is gone for good; anything else (no answer,
    3xx since redirects are not followed, 4xx, 5xx) is retried."""
    if status_code is not None and 200 <= status_code < 300:
        return Outcome.SUCCESS
    if status_code == 410:
        return Outcome.GONE
    return Outcome.RETRY


def retry_delay(
    attempt: int,
    schedule: Sequence[float],
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> timedelta | None:
    """The wait before attempt `attempt + 1`, with ±20 % jitter so a receiver that comes
    back is not hit by every endpoint's retries at once; None when attempts are used up.
    A `Retry-After` the receiver sent is honoured, up to an hour."""
    if attempt > len(schedule):
        return None
    base = schedule[attempt - 1]
    jitter = (rng or random).uniform(0.8, 1.2)
    seconds = base * jitter
    if retry_after is not None:
        seconds = max(seconds, min(retry_after, RETRY_AFTER_MAX))
    return timedelta(seconds=seconds)


def parse_schedule(raw: str) -> tuple[float, ...]:
    """`"5,300,1800"` (seconds between attempts) as numbers; ValueError names the problem."""
    try:
        values = tuple(float(p) for p in raw.split(",") if p.strip())
    except ValueError:
        raise ValueError(f"{raw!r} is not a comma-separated list of seconds") from None
    if not values or any(v <= 0 for v in values):
        raise ValueError(f"{raw!r} must list at least one positive number of seconds")
    return values


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from a `Retry-After` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()[:100]
    if value.isascii() and value.isdigit():
        return float(min(int(value[:9]), 86_400)) if len(value) <= 9 else 86_400.0
    try:
        when = parsedate_to_datetime(value)
        if when.tzinfo is None:
            return None
        return max(0.0, (when - now).total_seconds())
    except (TypeError, ValueError, OverflowError):
        return None


@dataclass(frozen=True)
class EndpointChanges:
    """Fields to change; None leaves a field as it is."""

    url: str | None = None
    description: str | None = None
    event_types: Sequence[str] | None = None
    service_ids: Sequence[str] | None = None
    format: WebhookFormat | None = None
    enabled: bool | None = None


def change(
    endpoint: Endpoint, changes: EndpointChanges, *, now: datetime, allow_private: bool
) -> Endpoint:
    spec = check_spec(
        changes.url if changes.url is not None else endpoint.url,
        changes.description if changes.description is not None else endpoint.description,
        changes.event_types if changes.event_types is not None else endpoint.event_types,
        changes.service_ids if changes.service_ids is not None else endpoint.service_ids,
        changes.format or endpoint.format,
        allow_private=allow_private,
    )
    updated = replace(
        endpoint,
        url=spec.url,
        description=spec.description,
        event_types=spec.event_types,
        service_ids=spec.service_ids,
        format=spec.format,
        updated_at=now,
    )
    if changes.enabled is True and not endpoint.enabled:
        updated = replace(
            updated, enabled=True, disabled_reason=None, disabled_at=None, consecutive_failures=0
        )
    elif changes.enabled is False and endpoint.enabled:
        updated = replace(
            updated, enabled=False, disabled_reason="disabled by an administrator", disabled_at=now
        )
    return updated


_DELIVERY_ID = re.compile(r"msg_[0-9a-f]{24}\.[0-9a-f]{24}")


def delivery_id(value: str, field: str = "deliveryId") -> str:
    if not _DELIVERY_ID.fullmatch(value):
        raise invalid(field, f"{field} {value[:60]!r} is not a valid delivery id")
    return value
