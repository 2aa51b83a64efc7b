"""The typed per-request (or per-websocket-connection) GraphQL context."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.dataloader import DataLoader
from strawberry.types import Info as _Info

from incident_service.auth import ANONYMOUS, Principal
from incident_service.config import Settings
from incident_service.domain.service import Service
from incident_service.store.incidents import IncidentStore
from incident_service.store.services import ServiceStore

if TYPE_CHECKING:
    from incident_service.runtime import Runtime


@dataclass
class Context:
    request: Request | WebSocket
    response: Response | WebSocket | None
    runtime: Runtime
    principal: Principal = ANONYMOUS
    # Set by Strawberry from the websocket `connection_init` payload.
    connection_params: dict[str, Any] | None = None
    # Batches within one tick; cache off because a websocket connection keeps
    # one context for its whole life and must never see stale services.
    service_loader: DataLoader[str, Service | None] = field(init=False)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        services = self.runtime.services

        async def load(ids: list[str]) -> list[Service | None]:
            found = {s.id: s for s in await services.get_many(ids)}
            return [found.get(i) for i in ids]

        self.service_loader = DataLoader(load_fn=load, cache=False)

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def incidents(self) -> IncidentStore:
        return self.runtime.incidents

    @property
    def services(self) -> ServiceStore:
        return self.runtime.services


Info = _Info[Context, None]
