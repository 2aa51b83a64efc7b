"""Webhook endpoint queries and mutations (ADMIN)."""

from __future__ import annotations

import strawberry

from incident_service import clock
from incident_service.api.common import PageInfo, payload
from incident_service.api.context import Info
from incident_service.api.permissions import IsAdmin
from incident_service.api.webhooks.types import (
    CreateWebhookEndpointInput,
    UpdateWebhookEndpointInput,
    WebhookDelivery,
    WebhookDeliveryConnection,
    WebhookDeliveryEdge,
    WebhookDeliveryFilter,
    WebhookDeliveryPayload,
    WebhookEndpoint,
    WebhookEndpointPayload,
    WebhookSecretPayload,
)
from incident_service.domain import notifications, validation
from incident_service.domain import webhooks as domain
from incident_service.domain.enums import UserErrorCode
from incident_service.domain.errors import DomainError, not_found
from incident_service.domain.errors import validation as invalid


async def _service_ids(info: Info, raw: list[strawberry.ID] | None) -> list[str] | None:
    if raw is None:
        return None
    ids = [validation.object_id(i, "serviceIds") for i in raw]
    await info.context.services.require(ids, ("input", "serviceIds"))
    return ids


def _allow_private(info: Info) -> bool:
    return info.context.settings.webhook_private_targets_allowed


async def _check_target(info: Info, url: str) -> None:
    refusal = await info.context.resources.webhook_target_refusal(url)
    if refusal is not None:
        raise invalid("url", refusal)


async def _endpoint(info: Info, raw: strawberry.ID, field: str = "id") -> domain.Endpoint:
    return await info.context.webhooks.require(validation.object_id(raw, field), field)


@strawberry.type
class WebhookQueries:
    @strawberry.field(
        description="The event types an endpoint can subscribe to.", permission_classes=[IsAdmin]
    )
    def webhook_event_types(self) -> list[str]:
        return list(notifications.EVENT_TYPES)

    @strawberry.field(
        description="Every webhook endpoint, newest first.", permission_classes=[IsAdmin]
    )
    async def webhook_endpoints(self, info: Info) -> list[WebhookEndpoint]:
        return [WebhookEndpoint.from_domain(e) for e in await info.context.webhooks.all()]

    @strawberry.field(
        description="An endpoint's delivery log, newest first (kept 30 days; Relay connection).",
        permission_classes=[IsAdmin],
    )
    async def webhook_deliveries(
        self,
        info: Info,
        endpoint_id: strawberry.ID,
        filter: WebhookDeliveryFilter | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> WebhookDeliveryConnection:
        endpoint = validation.object_id(endpoint_id, "endpointId")
        statuses = tuple(filter.status or ()) if filter else ()
        items, has_next = await info.context.webhooks.deliveries(
            endpoint, statuses, validation.page_size(first), after
        )
        edges = [
            WebhookDeliveryEdge(cursor=c, node=WebhookDelivery.from_domain(d)) for d, c in items
        ]
        return WebhookDeliveryConnection(
            edges=edges, page_info=PageInfo.forward([e.cursor for e in edges], has_next)
        )


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(
        description="Create an endpoint. The answer carries its signing secret, shown only "
        "this once.",
        permission_classes=[IsAdmin],
    )
    async def create_webhook_endpoint(
        self, info: Info, input: CreateWebhookEndpointInput
    ) -> WebhookSecretPayload:
        async def work() -> domain.Endpoint:
            spec = domain.check_spec(
                input.url,
                input.description,
                input.event_types,
                await _service_ids(info, input.service_ids) or [],
                input.format,
                allow_private=_allow_private(info),
            )
            await _check_target(info, spec.url)
            return await info.context.webhooks.create(
                spec, now=clock.now(), actor=info.context.principal.actor
            )

        return await payload(work, WebhookSecretPayload.ok, WebhookSecretPayload.failed)

    @strawberry.mutation(
        description="Change an endpoint, or turn a disabled one back on.",
        permission_classes=[IsAdmin],
    )
    async def update_webhook_endpoint(
        self, info: Info, input: UpdateWebhookEndpointInput
    ) -> WebhookEndpointPayload:
        async def work() -> domain.Endpoint:
            current = await _endpoint(info, input.id)
            changes = domain.EndpointChanges(
                url=input.url,
                description=input.description,
                event_types=input.event_types,
                service_ids=await _service_ids(info, input.service_ids),
                format=input.format,
                enabled=input.enabled,
            )
            updated = domain.change(
                current, changes, now=clock.now(), allow_private=_allow_private(info)
            )
            if updated.url != current.url:
                await _check_target(info, updated.url)
            return await _save(info, current, updated)

        return await payload(work, WebhookEndpointPayload.ok, WebhookEndpointPayload.failed)

    @strawberry.mutation(
        description="A new signing secret, shown only in this answer. The previous one keeps "
        "signing too (a second signature) for 24 hours, so receivers can switch without losing "
        "a delivery.",
        permission_classes=[IsAdmin],
    )
    async def rotate_webhook_secret(self, info: Info, id: strawberry.ID) -> WebhookSecretPayload:
        async def work() -> domain.Endpoint:
            current = await _endpoint(info, id)
            rotated = await info.context.webhooks.rotate_secret(current, clock.now())
            if rotated is None:
                raise _moved(current)
            return rotated

        return await payload(work, WebhookSecretPayload.ok, WebhookSecretPayload.failed)

    @strawberry.mutation(
        description="Delete an endpoint; its pending deliveries are cancelled.",
        permission_classes=[IsAdmin],
    )
    async def delete_webhook_endpoint(
        self, info: Info, id: strawberry.ID
    ) -> WebhookEndpointPayload:
        async def work() -> domain.Endpoint:
            current = await _endpoint(info, id)
            if not await info.context.webhooks.delete(current.id, clock.now()):
                raise not_found("webhook endpoint")
            return current

        return await payload(work, WebhookEndpointPayload.ok, WebhookEndpointPayload.failed)

    @strawberry.mutation(
        description="Send a delivery again now, with the same webhook-id (whatever its status).",
        permission_classes=[IsAdmin],
    )
    async def redeliver_webhook(
        self, info: Info, delivery_id: strawberry.ID
    ) -> WebhookDeliveryPayload:
        async def work() -> domain.Delivery:
            webhooks = info.context.webhooks
            found = await webhooks.delivery(domain.delivery_id(delivery_id))
            if found is None:
                raise not_found("webhook delivery", "deliveryId")
            _require_enabled(await webhooks.require(found.endpoint_id, "deliveryId"), "deliveryId")
            return await webhooks.redeliver(found, clock.now())

        return await payload(work, WebhookDeliveryPayload.ok, WebhookDeliveryPayload.failed)

    @strawberry.mutation(
        description="Send a `webhook.test` message to this endpoint (even when it is not "
        "subscribed to anything else), through the same queue and signing as real events.",
        permission_classes=[IsAdmin],
    )
    async def send_test_webhook(
        self, info: Info, endpoint_id: strawberry.ID
    ) -> WebhookDeliveryPayload:
        async def work() -> domain.Delivery:
            endpoint = _require_enabled(
                await _endpoint(info, endpoint_id, "endpointId"), "endpointId"
            )
            webhooks = info.context.webhooks
            delivery_id = await webhooks.send_test(
                endpoint, domain.test_message(clock.now(), endpoint.id)
            )
            return domain.Delivery(
                id=delivery_id,
                endpoint_id=endpoint.id,
                message_id=delivery_id.split(".")[0],
                type=notifications.WEBHOOK_TEST,
                status=domain.DeliveryStatus.PENDING,
                attempts=0,
                created_at=clock.now(),
            )

        return await payload(work, WebhookDeliveryPayload.ok, WebhookDeliveryPayload.failed)


def _require_enabled(endpoint: domain.Endpoint, field: str) -> domain.Endpoint:
    if not endpoint.enabled:
        raise invalid(
            field,
            f"the endpoint is disabled ({endpoint.disabled_reason}); enable it first with "
            "updateWebhookEndpoint",
        )
    return endpoint


def _moved(endpoint: domain.Endpoint) -> DomainError:
    return DomainError(
        UserErrorCode.CONFLICT, "the endpoint changed meanwhile; re-read it and retry", None
    )


async def _save(info: Info, current: domain.Endpoint, updated: domain.Endpoint) -> domain.Endpoint:
    saved = await info.context.webhooks.save(current, updated)
    if saved is None:
        raise _moved(current)
    return saved
