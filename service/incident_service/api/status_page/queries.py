"""The statusPage query: public, anonymous allowed."""

from __future__ import annotations

import strawberry

from incident_service.api.context import Info
from incident_service.api.status_page.types import StatusPage


@strawberry.type
class StatusPageQueries:
    @strawberry.field(
        description="The public status page. Anonymous callers may read it; it carries "
        "only public data."
    )
    async def status_page(self, info: Info) -> StatusPage:
        return StatusPage.from_domain(await info.context.status_pages.load())
