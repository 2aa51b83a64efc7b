"""GraphQL types and inputs of webhook endpoints and their deliveries (ADMIN only)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from incident_service.api.common import PageInfo, UserError
from incident_service.domain import webhooks as domain

WebhookFormat = domain.WebhookFormat
strawberry.enum(
    WebhookFormat,
    description="STANDARD: signed JSON per the Standard Webhooks specification "
    "(webhook-id, webhook-timestamp, webhook-signature headers; body {type, timestamp, data}). "
    "SLACK: a Slack incoming-webhook message (text and blocks), same events.",
)
DeliveryStatus = domain.DeliveryStatus
strawberry.enum(
    DeliveryStatus,
    description="PENDING: an attempt is due (first or retry); SUCCEEDED: the receiver answered "
    "2xx; FAILED: every attempt failed, or the receiver answered 410; CANCELLED: the endpoint "
    "was disabled or deleted first.",
)


@strawberry.type(
    description="Where and what to send. The signing secret is shown only when created or rotated."
)
class WebhookEndpoint:
    id: strawberry.ID = strawberry.field(description="Opaque id.")
    url: str = strawberry.field(description="The receiver's http(s) URL.")
    description: str | None = strawberry.field(description="What it is for.")
    event_types: list[str] = strawberry.field(
        description="The event types sent to it (see `webhookEventTypes`)."
    )
    service_ids: list[strawberry.ID] = strawberry.field(
        description="Only events about these services (components); empty: every event."
    )
    format: WebhookFormat = strawberry.field(description="STANDARD or SLACK.")
    enabled: bool = strawberry.field(
        description="False once disabled (410 Gone, or too many failed messages in a row); "
        "updateWebhookEndpoint(enabled: true) turns it back on."
    )
    disabled_reason: str | None = strawberry.field(description="Why it was disabled.")
    disabled_at: datetime | None = strawberry.field(description="When it was disabled.")
    consecutive_failures: int = strawberry.field(
        description="Messages in a row whose every attempt failed (reset by a success)."
    )
    secret_rotated_until: datetime | None = strawberry.field(
        description="After a rotation, the previous secret also signs until this time."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    created_by: str = strawberry.field(description="Who created it.")
    updated_at: datetime = strawberry.field(description="Last change.")
    version: int = strawberry.field(description="Increases by one on every change.")

    @classmethod
    def from_domain(cls, e: domain.Endpoint) -> WebhookEndpoint:
        return cls(
            id=strawberry.ID(e.id),
            url=e.url,
            description=e.description,
            event_types=list(e.event_types),
            service_ids=[strawberry.ID(i) for i in e.service_ids],
            format=e.format,
            enabled=e.enabled,
            disabled_reason=e.disabled_reason,
            disabled_at=e.disabled_at,
            consecutive_failures=e.consecutive_failures,
            secret_rotated_until=e.previous_secret_until if e.previous_secret else None,
            created_at=e.created_at,
            created_by=e.created_by,
            updated_at=e.updated_at,
            version=e.version,
        )


@strawberry.type(description="One attempt to deliver a message.")
class WebhookAttempt:
    at: datetime = strawberry.field(description="When it was sent.")
    response_code: int | None = strawberry.field(
        description="The receiver's HTTP status; null when there was no answer."
    )
    latency_ms: int = strawberry.field(description="Milliseconds until the answer or giving up.")
    error: str | None = strawberry.field(
        description="Why there was no answer (timeout, refused connection, forbidden address)."
    )

    @classmethod
    def from_domain(cls, a: domain.AttemptRecord) -> WebhookAttempt:
        return cls(at=a.at, response_code=a.status_code, latency_ms=a.latency_ms, error=a.error)


@strawberry.type(description="One message to one endpoint, and what became of it.")
class WebhookDelivery:
    id: strawberry.ID = strawberry.field(description="Opaque id (for redeliverWebhook).")
    endpoint_id: strawberry.ID = strawberry.field(description="The endpoint.")
    message_id: str = strawberry.field(
        description="The `webhook-id` header: the same for every attempt and redelivery, so "
        "receivers can drop duplicates."
    )
    event_type: str = strawberry.field(description="The event type, e.g. incident.declared.")
    status: DeliveryStatus = strawberry.field(description="Where the delivery is.")
    attempts: int = strawberry.field(description="Attempts made so far.")
    created_at: datetime = strawberry.field(description="When the message was written.")
    next_attempt_at: datetime | None = strawberry.field(
        description="When the next attempt is due (PENDING only)."
    )
    delivered_at: datetime | None = strawberry.field(description="When a 2xx came back.")
    last_response_code: int | None = strawberry.field(
        description="The HTTP status of the last attempt; null if none answered."
    )
    last_latency_ms: int | None = strawberry.field(description="The last attempt's latency.")
    last_error: str | None = strawberry.field(
        description="Why the last attempt got no answer, or why the delivery was cancelled."
    )
    history: list[WebhookAttempt] = strawberry.field(
        description="The latest attempts (up to 10), oldest first."
    )

    @classmethod
    def from_domain(cls, d: domain.Delivery) -> WebhookDelivery:
        last = d.last_attempt
        return cls(
            id=strawberry.ID(d.id),
            endpoint_id=strawberry.ID(d.endpoint_id),
            message_id=d.message_id,
            event_type=d.type,
            status=d.status,
            attempts=d.attempts,
            created_at=d.created_at,
            next_attempt_at=d.next_attempt_at,
            delivered_at=d.delivered_at,
            last_response_code=last.status_code if last else None,
            last_latency_ms=last.latency_ms if last else None,
            last_error=d.error,
            history=[WebhookAttempt.from_domain(a) for a in d.history],
        )


@strawberry.type(description="An edge of the delivery log.")
class WebhookDeliveryEdge:
    cursor: str = strawberry.field(description="Opaque cursor.")
    node: WebhookDelivery = strawberry.field(description="The delivery.")


@strawberry.type(description="An endpoint's deliveries, newest first.")
class WebhookDeliveryConnection:
    edges: list[WebhookDeliveryEdge] = strawberry.field(description="This page.")
    page_info: PageInfo = strawberry.field(description="Paging.")


@strawberry.input(description="Filter for the delivery log.")
class WebhookDeliveryFilter:
    status: list[DeliveryStatus] | None = strawberry.field(
        default=None, description="Any of these statuses."
    )


@strawberry.input(description="A new webhook endpoint.")
class CreateWebhookEndpointInput:
    url: str = strawberry.field(
        description="The receiver's http(s) URL. Private, loopback and link-local addresses "
        "are refused unless WEBHOOK_ALLOW_PRIVATE_NETWORKS."
    )
    event_types: list[str] = strawberry.field(
        description="The event types to send (at least one; see `webhookEventTypes`)."
    )
    description: str | None = strawberry.field(default=None, description="What it is for.")
    service_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list,
        description="Only events about these services; empty: every event.",
    )
    format: WebhookFormat = strawberry.field(
        default=WebhookFormat.STANDARD, description="STANDARD (default) or SLACK."
    )


@strawberry.input(description="Change an endpoint; omitted fields stay as they are.")
class UpdateWebhookEndpointInput:
    id: strawberry.ID = strawberry.field(description="The endpoint.")
    url: str | None = strawberry.field(default=None, description="New URL.")
    event_types: list[str] | None = strawberry.field(default=None, description="New event types.")
    description: str | None = strawberry.field(default=None, description="New description.")
    service_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="New service filter ([]: every event)."
    )
    format: WebhookFormat | None = strawberry.field(default=None, description="New format.")
    enabled: bool | None = strawberry.field(
        default=None,
        description="true re-enables a disabled endpoint (and resets its failure count); "
        "false pauses it (pending deliveries are cancelled when due).",
    )


@strawberry.type(description="The result of creating an endpoint or rotating its secret.")
class WebhookSecretPayload:
    endpoint: WebhookEndpoint | None = strawberry.field(description="The endpoint.")
    secret: str | None = strawberry.field(
        description="The signing secret (whsec_...), for verifying webhook-signature. Shown "
        "only now."
    )
    user_errors: list[UserError] = strawberry.field(description="Empty on success.")

    @classmethod
    def ok(cls, e: domain.Endpoint) -> WebhookSecretPayload:
        return cls(endpoint=WebhookEndpoint.from_domain(e), secret=e.secret, user_errors=[])

    @classmethod
    def failed(cls, errors: list[UserError]) -> WebhookSecretPayload:
        return cls(endpoint=None, secret=None, user_errors=errors)


@strawberry.type(description="The result of changing or deleting an endpoint.")
class WebhookEndpointPayload:
    endpoint: WebhookEndpoint | None = strawberry.field(description="The endpoint.")
    user_errors: list[UserError] = strawberry.field(description="Empty on success.")

    @classmethod
    def ok(cls, e: domain.Endpoint) -> WebhookEndpointPayload:
        return cls(endpoint=WebhookEndpoint.from_domain(e), user_errors=[])

    @classmethod
    def failed(cls, errors: list[UserError]) -> WebhookEndpointPayload:
        return cls(endpoint=None, user_errors=errors)


@strawberry.type(description="The result of a redelivery or a test delivery.")
class WebhookDeliveryPayload:
    delivery: WebhookDelivery | None = strawberry.field(
        description="The delivery, PENDING: follow it in webhookDeliveries."
    )
    user_errors: list[UserError] = strawberry.field(description="Empty on success.")

    @classmethod
    def ok(cls, d: domain.Delivery) -> WebhookDeliveryPayload:
        return cls(delivery=WebhookDelivery.from_domain(d), user_errors=[])

    @classmethod
    def failed(cls, errors: list[UserError]) -> WebhookDeliveryPayload:
        return cls(delivery=None, user_errors=errors)
