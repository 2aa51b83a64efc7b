"""Incident queries."""

from __future__ import annotations

import strawberry

from incident_service.api.common import PageInfo
from incident_service.api.context import Info
from incident_service.api.incidents.inputs import IncidentFilter, IncidentOrder
from incident_service.api.incidents.types import Incident, IncidentConnection, IncidentEdge
from incident_service.api.permissions import IsViewer
from incident_service.domain.errors import validation
from incident_service.store.incidents import ORDERS, IncidentQuery, parse_id
from incident_service.store.paging import clamp_first


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
            raise validation("id", "give exactly one of id or key")
        store = info.context.incidents
        found = await (store.get(parse_id(id)) if id is not None else store.get_by_key(key or ""))
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
        limit = clamp_first(first)
        store = info.context.incidents
        page = await store.page(query, ORDERS[order_by.value], limit, after)
        edges = [IncidentEdge(cursor=c, node=Incident.from_domain(i)) for i, c in page.items]
        return IncidentConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next,
                has_previous_page=False,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            count=lambda: store.count(query),
        )
