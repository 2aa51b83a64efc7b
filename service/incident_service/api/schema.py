"""The schema, assembled from the per-domain parts."""

from __future__ import annotations

from strawberry.tools import merge_types

from incident_service.api.access.resolvers import AccessMutations, AccessQueries
from incident_service.api.alerts.resolvers import AlertMutations, AlertQueries
from incident_service.api.documents import Documents
from incident_service.api.extensions import extensions
from incident_service.api.incidents.external_links import ExternalLinkMutations
from incident_service.api.incidents.mutations import IncidentMutations
from incident_service.api.incidents.queries import IncidentQueries
from incident_service.api.incidents.restriction import RestrictionMutations
from incident_service.api.incidents.stats import StatsQueries
from incident_service.api.incidents.tasks import TaskMutations
from incident_service.api.maintenance.resolvers import MaintenanceMutations, MaintenanceQueries
from incident_service.api.persisted import Manifest
from incident_service.api.postmortems.resolvers import PostmortemMutations, PostmortemQueries
from incident_service.api.scalars import SCALAR_OVERRIDES
from incident_service.api.services.resolvers import ServiceMutations, ServiceQueries
from incident_service.api.status_page.queries import StatusPageQueries
from incident_service.api.subscribers.resolvers import SubscriberMutations, SubscriberQueries
from incident_service.api.subscriptions.resolvers import RealtimeSubscriptions
from incident_service.api.subscriptions.shared_execution import (
    SharedEventExecutor,
    SharedEventSchema,
)
from incident_service.api.templates.resolvers import TemplateMutations, TemplateQueries
from incident_service.api.webhooks.resolvers import WebhookMutations, WebhookQueries
from incident_service.config import Settings

Query = merge_types(
    "Query",
    (
        IncidentQueries,
        TemplateQueries,
        StatsQueries,
        ServiceQueries,
        MaintenanceQueries,
        AlertQueries,
        AccessQueries,
        WebhookQueries,
        PostmortemQueries,
        StatusPageQueries,
        SubscriberQueries,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        IncidentMutations,
        TaskMutations,
        ExternalLinkMutations,
        TemplateMutations,
        RestrictionMutations,
        ServiceMutations,
        MaintenanceMutations,
        AlertMutations,
        AccessMutations,
        WebhookMutations,
        SubscriberMutations,
        PostmortemMutations,
    ),
)
Subscription = merge_types("Subscription", (RealtimeSubscriptions,))


def build_schema(
    settings: Settings | None = None, manifest: Manifest | None = None
) -> SharedEventSchema:
    settings = settings or Settings()
    return SharedEventSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions(settings, Documents(settings), manifest or Manifest.load()),
        execution_context_class=SharedEventExecutor,
        scalar_overrides=SCALAR_OVERRIDES,
    )
