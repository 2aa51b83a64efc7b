"""Everything one process holds while it runs: settings, database, stores.

Built once at start-up by the app's lifespan and shared by every request
through the GraphQL context.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from incident_service.apikeys.store import ApiKeyStore
from incident_service.auth import Principal
from incident_service.authn import Authenticator
from incident_service.config import Settings
from incident_service.domain.enums import Priority
from incident_service.domain.priority import SlaTarget, sla_targets_from_seconds
from incident_service.oidc import OidcVerifier
from incident_service.ratelimit import RateLimiter
from incident_service.realtime.broker import Broker
from incident_service.realtime.changestream import ChangeStream
from incident_service.realtime.connections import Connections
from incident_service.store.database import Database
from incident_service.store.incidents import IncidentStore
from incident_service.store.services import ServiceStore
from incident_service.store.status_page import StatusPageStore


@dataclass
class Runtime:
    settings: Settings
    database: Database
    incidents: IncidentStore = field(init=False)
    services: ServiceStore = field(init=False)
    api_keys: ApiKeyStore = field(init=False)
    authenticator: Authenticator = field(init=False)
    rate_limiter: RateLimiter = field(init=False)
    sla_targets: dict[Priority, SlaTarget] = field(init=False)
    # Realtime: open websockets, the broker and the one change stream feeding it.
    status_pages: StatusPageStore = field(init=False)
    connections: Connections = field(init=False)
    broker: Broker = field(init=False)
    change_stream: ChangeStream = field(init=False)
    draining: bool = False

    def __post_init__(self) -> None:
        self.incidents = IncidentStore(self.database)
        self.services = ServiceStore(self.database)
        self.api_keys = ApiKeyStore(self.database)
        s = self.settings
        oidc = (
            OidcVerifier.create(
                s.oidc_issuer,
                s.oidc_audience,
                s.oidc_role_claim,
                s.oidc_leeway_seconds,
                s.oidc_jwks_file,
                s.oidc_hs256_secret,
            )
            if s.oidc_enabled
            else None
        )
        self.authenticator = Authenticator(
            s.admin_api_key, self.api_keys, oidc, s.api_key_touch_interval
        )
        self.rate_limiter = RateLimiter(s.rate_limit_per_key, s.rate_limit_per_ip)
        self.sla_targets = sla_targets_from_seconds(self.settings.sla.model_dump())
        self.status_pages = StatusPageStore(self.database)
        self.connections = Connections()
        self.broker = Broker(s.subscriber_queue_size, self.incidents, self.status_pages)
        self.change_stream = ChangeStream(self.database, self.broker)

    async def authenticate(self, token: str) -> Principal | None:
        """The principal a bearer token stands for, or None if it stands for nobody."""
        return await self.authenticator.authenticate(token)

    @classmethod
    def create(cls, settings: Settings, mongodb_uri: str) -> Runtime:
        return cls(settings, Database(mongodb_uri, settings.mongodb_database))

    async def start(self) -> None:
        await self.database.ensure_indexes()
        await self.api_keys.ensure_indexes()
        await self.broker.start()
        await self.change_stream.start()

    async def stop(self) -> None:
        await self.change_stream.stop()
        await self.broker.stop()
        await self.database.close()
