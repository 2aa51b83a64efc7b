"""Everything one process holds while it runs: settings, database, stores.

Built once at start-up by the app's lifespan and shared by every request
through the GraphQL context.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from incident_service.auth import Principal, match_admin_key
from incident_service.config import Settings
from incident_service.domain.enums import Priority
from incident_service.domain.priority import SlaTarget, sla_targets_from_seconds
from incident_service.store.database import Database
from incident_service.store.incidents import IncidentStore
from incident_service.store.services import ServiceStore


@dataclass
class Runtime:
    settings: Settings
    database: Database
    incidents: IncidentStore = field(init=False)
    services: ServiceStore = field(init=False)
    sla_targets: dict[Priority, SlaTarget] = field(init=False)
    draining: bool = False

    def __post_init__(self) -> None:
        self.incidents = IncidentStore(self.database)
        self.services = ServiceStore(self.database)
        self.sla_targets = sla_targets_from_seconds(self.settings.sla.model_dump())

    async def authenticate(self, token: str) -> Principal | None:
        """The principal a bearer token stands for, or None if it stands for nobody."""
        return match_admin_key(token, self.settings.admin_api_key)

    @classmethod
    def create(cls, settings: Settings, mongodb_uri: str) -> Runtime:
        return cls(settings, Database(mongodb_uri, settings.mongodb_database))

    async def start(self) -> None:
        await self.database.ensure_indexes()

    async def stop(self) -> None:
        await self.database.close()
