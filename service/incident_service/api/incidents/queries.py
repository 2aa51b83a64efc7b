"""Incident queries."""

from __future__ import annotations

import strawberry

from incident_service.api.common import PageInfo
from incident_service.api.context import Info
from incident_service.api.incidents.inputs import IncidentFilter
from incident_service.api.incidents.types import Incident, IncidentConnection, IncidentEdge
from incident_service.api.permissions import IsViewer
from incident_service.domain import validation
from incident_service.domain.errors import validation as invalid
from incident_service.domain.query import IncidentOrder, IncidentQuery


@strawberry.type
class IncidentQueries:
    @strawberry.field(
        description="One incident by `id` or by human `key` (INC-42); exactly one of them.",
        permission_classes=[IsViewer],
    )
    async def incident(
        self, info: Info, id: strawberry.ID | None = None, key: str | None = None
    ) -> Incident | None:
        if (id is None) == (key is None):
            raise invalid("id", "give exactly one of id or key")
        store = info.context.incidents
        found = await (
            store.get(validation.object_id(id)) if id is not None else store.get_by_key(key or "")
        )
        return Incident.from_domain(found) if found else None

    @strawberry.field(
        description="Incidents matching `filter`, newest first by default (Relay connection).",
        permission_classes=[IsViewer],
    )
    async def incidents(
        self,
        info: Info,
        filter: IncidentFilter | None = None,
        first: int | None = 20,
        after: str | None = None,
        order_by: IncidentOrder = IncidentOrder.NEWEST_FIRST,
    ) -> IncidentConnection:
        query = filter.to_query() if filter else IncidentQuery()
        limit = validation.page_size(first)
        store = info.context.incidents
        page = await store.page(query, order_by, limit, after)
        edges = [IncidentEdge(cursor=c, node=Incident.from_domain(i)) for i, c in page.items]
        return IncidentConnection(
            edges=edges,
            page_info=PageInfo.forward([e.cursor for e in edges], page.has_next),
            count=lambda: store.count(query),
        )
