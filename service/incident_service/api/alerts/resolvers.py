"""Alert intake over GraphQL (`reportAlert`), alert reads (VIEWER) and integrations (ADMIN)."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from starlette.websockets import WebSocket

from incident_service import clock
from incident_service.access.authenticator import RateLimited
from incident_service.api.alerts.types import (
    Alert,
    AlertConnection,
    AlertEdge,
    AlertFilter,
    AlertPayload,
    CreateIntegrationInput,
    Integration,
    IntegrationDefaultsInput,
    IntegrationIdInput,
    IntegrationKeyPayload,
    IntegrationPayload,
    ReportAlertInput,
)
from incident_service.api.common import PageInfo, no_count, payload
from incident_service.api.context import Info
from incident_service.api.permissions import IsAdmin, IsAlertSender, IsViewer
from incident_service.domain import alerts as domain
from incident_service.domain import integrations
from incident_service.domain.validation import page_size
from incident_service.observability import metrics
from incident_service.store.alerts import AlertQuery


async def _check_services(info: Info, defaults: integrations.Defaults) -> None:
    await info.context.services.require(
        list(defaults.service_ids), ("input", "defaults", "serviceIds")
    )


async def _sender(info: Info, key: str | None) -> integrations.Integration:
    """The integration reporting: the one named by `integrationKey`, else the caller's."""
    authenticator = info.context.resources.authenticator
    principal = info.context.principal
    if key is None and isinstance(info.context.request, WebSocket):
        # A socket's credentials are checked once, at connection_init: a rotated or
        # disabled key would keep reporting on it. Over a socket the key goes with
        # each alert, and is checked each time.
        raise GraphQLError(
            "Over a websocket, reportAlert needs integrationKey in its input",
            extensions={"code": "UNAUTHENTICATED"},
        )
    found = (
        await authenticator.integration_for(key)
        if key
        else await info.context.integrations.by_name(principal.name)
    )
    if found is None:
        raise GraphQLError(
            "Invalid routing key: unknown or disabled integration",
            extensions={"code": "UNAUTHENTICATED"},
        )
    try:
        authenticator.check_intake(found)
    except RateLimited as limited:
        raise GraphQLError(str(limited), extensions={"code": "RATE_LIMITED"}) from None
    return found


@strawberry.type
class AlertQueries:
    @strawberry.field(
        description="Alerts, newest first (by firstSeenAt).", permission_classes=[IsViewer]
    )
    async def alerts(
        self,
        info: Info,
        filter: AlertFilter | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> AlertConnection:
        query = filter.to_query() if filter else AlertQuery()
        store = info.context.alerts
        if query.incident_id and await info.context.incidents.get(query.incident_id) is None:
            # A restricted incident the caller does not take part in: as an unknown id.
            return AlertConnection(edges=[], page_info=PageInfo.forward([], False), count=no_count)
        page = await store.page(query, page_size(first), after)
        edges = [AlertEdge(cursor=c, node=Alert.from_domain(a)) for a, c in page.items]
        return AlertConnection(
            edges=edges,
            page_info=PageInfo.forward([e.cursor for e in edges], page.has_next),
            count=lambda: store.count(query),
        )

    @strawberry.field(
        description="Integrations, oldest first; routing keys are never returned.",
        permission_classes=[IsAdmin],
    )
    async def integrations(self, info: Info, include_disabled: bool = False) -> list[Integration]:
        found = await info.context.integrations.all(include_disabled)
        return [Integration.from_domain(i) for i in found]


@strawberry.type
class AlertMutations:
    @strawberry.mutation(
        description="Report one alert event (trigger, acknowledge, resolve), as Events v2 does.",
        permission_classes=[IsAlertSender],
    )
    async def report_alert(self, info: Info, input: ReportAlertInput) -> AlertPayload:
        async def work() -> domain.Alert | None:
            integration = await _sender(info, input.integration_key)
            signal = input.to_domain()
            outcome = await info.context.alerts.ingest(
                integration, signal, clock.now(), read_back=True
            )
            metrics.ALERTS_RECEIVED.labels("graphql", outcome.result(signal.action)).inc()
            return outcome.alert

        return await payload(work, AlertPayload.ok, AlertPayload.failed)

    @strawberry.mutation(
        description="Create an integration; the payload's `routingKey` is shown only this once.",
        permission_classes=[IsAdmin],
    )
    async def create_integration(
        self, info: Info, input: CreateIntegrationInput
    ) -> IntegrationKeyPayload:
        async def work() -> tuple[integrations.Integration, str]:
            defaults = (input.defaults or IntegrationDefaultsInput()).to_domain()
            await _check_services(info, defaults)
            return await info.context.integrations.create(
                input.name,
                input.kind,
                defaults,
                input.auto_resolve,
                now=clock.now(),
                actor=info.context.principal.actor,
            )

        return await payload(work, IntegrationKeyPayload.ok, IntegrationKeyPayload.failed)

    @strawberry.mutation(
        description="A new routing key for an integration; the old one stops working at once.",
        permission_classes=[IsAdmin],
    )
    async def rotate_integration_key(
        self, info: Info, input: IntegrationIdInput
    ) -> IntegrationKeyPayload:
        async def work() -> tuple[integrations.Integration, str]:
            rotated = await info.context.integrations.rotate(input.id, clock.now())
            info.context.resources.authenticator.forget_integration(rotated[0].id)
            return rotated

        return await payload(work, IntegrationKeyPayload.ok, IntegrationKeyPayload.failed)

    @strawberry.mutation(
        description="Disable an integration: its key is refused from now on. Idempotent.",
        permission_classes=[IsAdmin],
    )
    async def disable_integration(
        self, info: Info, input: IntegrationIdInput
    ) -> IntegrationPayload:
        async def work() -> integrations.Integration:
            disabled = await info.context.integrations.disable(
                input.id, clock.now(), info.context.principal.actor
            )
            info.context.resources.authenticator.forget_integration(disabled.id)
            return disabled

        return await payload(work, IntegrationPayload.ok, IntegrationPayload.failed)
