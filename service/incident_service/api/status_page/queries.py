"""Public queries: the status page and one published incident. Anonymous callers allowed."""

from __future__ import annotations

import strawberry

from incident_service.api.context import Info
from incident_service.api.status_page.types import PublicIncident, StatusPage


@strawberry.type
class StatusPageQueries:
    @strawberry.field(
        description="The public status page. Anonymous callers may read it; it carries "
        "only public data."
    )
    async def status_page(self, info: Info) -> StatusPage:
        return StatusPage.from_domain(await info.context.status_pages.load())

    @strawberry.field(
        description="One published incident by key (INC-42) with all its public updates, as "
        "the public sees it; null for an unknown key and for an internal incident alike."
    )
    async def public_incident(self, info: Info, key: str) -> PublicIncident | None:
        found = await info.context.status_pages.incident(key[:40])
        return PublicIncident.from_domain(found) if found else None
