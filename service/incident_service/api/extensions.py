"""The schema's extensions, in order: metrics, documents and limits, the error policy."""

from __future__ import annotations

from collections.abc import Callable

from strawberry.extensions import SchemaExtension

from incident_service.api.documents import Documents, cached_documents
from incident_service.api.errors import error_policy
from incident_service.api.metrics_extension import graphql_metrics
from incident_service.api.persisted import Manifest
from incident_service.config import Settings
from incident_service.observability.metrics import OperationLabels

Extension = Callable[[], SchemaExtension] | type[SchemaExtension]


def extensions(settings: Settings, documents: Documents, manifest: Manifest) -> list[Extension]:
    # Factories, not instances: an instance would share state across requests.
    return [
        # First: its hooks exit last, after ErrorPolicy's, so it counts final error codes.
        graphql_metrics(OperationLabels(manifest.names)),
        # Parsing and validation, with the depth, alias, token and introspection limits.
        cached_documents(documents),
        # Codes, masks and logs errors (one extension: each costs every operation).
        error_policy(suggestions=settings.field_suggestions_enabled),
    ]
