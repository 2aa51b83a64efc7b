"""The typed GraphQL context: who is calling, and every store and service a resolver uses.

One `Context` per HTTP request, and one per websocket connection (Strawberry
builds it once at connect, not per operation or event), so nothing in it may
cache data a long subscription would then serve stale.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cached_property
from itertools import groupby
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.dataloader import DataLoader
from strawberry.types import Info as _Info

from incident_service.access.authenticator import Authenticator
from incident_service.access.subscribing import SubscribeGate
from incident_service.api.visibility import VisibleIncidents
from incident_service.config import Settings
from incident_service.domain.enums import Priority
from incident_service.domain.incident import Event, Incident
from incident_service.domain.principal import ANONYMOUS, Principal
from incident_service.domain.priority import SlaTarget
from incident_service.domain.service import Service
from incident_service.realtime.broker import Broker
from incident_service.realtime.connections import Connections
from incident_service.store.action_items import ActionItemStore
from incident_service.store.actors import ActorNames
from incident_service.store.alerts import AlertStore
from incident_service.store.apikeys import ApiKeyStore
from incident_service.store.incidents import IncidentStore
from incident_service.store.integrations import IntegrationStore
from incident_service.store.maintenances import MaintenanceStore
from incident_service.store.postmortems import PostmortemStore
from incident_service.store.services import ServiceStore
from incident_service.store.stats import StatsStore
from incident_service.store.status_page import StatusPageStore
from incident_service.store.subscribers import SubscriberStore
from incident_service.store.templates import TemplateStore
from incident_service.store.webhooks import WebhookStore

#: (incident id, the seq the page starts after, how many events at most)
TimelinePage = tuple[str, int, int]


@dataclass(frozen=True)
class Resources:
    """What the process holds for the API: built once at start-up (runtime.py)."""

    settings: Settings
    incidents: IncidentStore
    services: ServiceStore
    maintenances: MaintenanceStore
    webhooks: WebhookStore
    api_keys: ApiKeyStore
    integrations: IntegrationStore
    alerts: AlertStore
    status_pages: StatusPageStore
    stats: StatsStore
    sla_targets: dict[Priority, SlaTarget]
    authenticator: Authenticator
    broker: Broker
    connections: Connections
    postmortems: PostmortemStore
    action_items: ActionItemStore
    #: Why a webhook URL cannot be used now (unresolvable, or a forbidden address); None
    #: when it can. The network check lives with the outbound client (jobs/transport.py).
    webhook_target_refusal: Callable[[str], Awaitable[str | None]]
    #: Email subscribers of the status page: the store (ADMIN), and the rate-limited way in.
    subscribers: SubscriberStore
    subscribe: SubscribeGate
    #: Playbook templates (declareIncident(templateId)).
    templates: TemplateStore
    #: Display names of actor ids (cached in the process).
    actor_names: ActorNames


@dataclass
class Context:
    request: Request | WebSocket
    response: Response | WebSocket | None
    resources: Resources
    principal: Principal = ANONYMOUS
    # Set by Strawberry from the websocket `connection_init` payload.
    connection_params: dict[str, Any] | None = None

    # The loaders batch within one tick, with their cache off: a websocket connection
    # keeps one context for its whole life and must never see stale data. Made on first
    # use: a status page socket, the most numerous, uses none of them.

    @cached_property
    def service_loader(self) -> DataLoader[str, Service | None]:
        return DataLoader(load_fn=self._load_services, cache=False)

    @cached_property
    def actor_name_loader(self) -> DataLoader[str, str]:
        return DataLoader(load_fn=self.resources.actor_names.names, cache=False)

    @cached_property
    def incident_loader(self) -> DataLoader[str, Incident | None]:
        """Incidents by id, as this caller sees them (None: missing or restricted)."""
        return DataLoader(load_fn=self._load_incidents, cache=False)

    @cached_property
    def timeline_loader(self) -> DataLoader[TimelinePage, list[Event]]:
        """Timeline pages, by (incident id, after seq, limit)."""
        return DataLoader(load_fn=self._load_timelines, cache=False)

    async def _load_services(self, ids: list[str]) -> list[Service | None]:
        found = {s.id: s for s in await self.resources.services.get_many(ids)}
        return [found.get(i) for i in ids]

    async def _load_incidents(self, ids: list[str]) -> list[Incident | None]:
        found = {i.id: i for i in await self.incidents.get_many(list(dict.fromkeys(ids)))}
        return [found.get(i) for i in ids]

    async def _load_timelines(self, pages: list[TimelinePage]) -> list[list[Event]]:
        """One round trip per distinct (after, limit): a list asks the same of each."""
        found: dict[TimelinePage, list[Event]] = {}
        for (after_seq, limit), group in groupby(
            sorted(set(pages), key=lambda p: (p[1], p[2])), key=lambda p: (p[1], p[2])
        ):
            ids = [incident_id for incident_id, _, _ in group]
            events = await self.incidents.events_of_many(ids, after_seq, limit)
            found.update({(i, after_seq, limit): events[i] for i in ids})
        return [found[p] for p in pages]

    @property
    def settings(self) -> Settings:
        return self.resources.settings

    @property
    def incidents(self) -> VisibleIncidents:
        """The incidents this caller may see (restricted ones only as a participant)."""
        return VisibleIncidents(self.resources.incidents, self.principal)

    @property
    def services(self) -> ServiceStore:
        return self.resources.services

    @property
    def maintenances(self) -> MaintenanceStore:
        return self.resources.maintenances

    @property
    def webhooks(self) -> WebhookStore:
        return self.resources.webhooks

    @property
    def api_keys(self) -> ApiKeyStore:
        return self.resources.api_keys

    @property
    def integrations(self) -> IntegrationStore:
        return self.resources.integrations

    @property
    def alerts(self) -> AlertStore:
        return self.resources.alerts

    @property
    def status_pages(self) -> StatusPageStore:
        return self.resources.status_pages

    @property
    def postmortems(self) -> PostmortemStore:
        return self.resources.postmortems

    @property
    def templates(self) -> TemplateStore:
        return self.resources.templates

    @property
    def action_items(self) -> ActionItemStore:
        return self.resources.action_items

    @property
    def stats(self) -> StatsStore:
        return self.resources.stats

    @property
    def sla_targets(self) -> dict[Priority, SlaTarget]:
        return self.resources.sla_targets

    @property
    def broker(self) -> Broker:
        return self.resources.broker

    @property
    def connections(self) -> Connections:
        return self.resources.connections


Info = _Info[Context, None]
