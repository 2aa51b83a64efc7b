"""The schema's extensions, in order: metrics, documents and limits, error codes, masking."""

from __future__ import annotations

from collections.abc import Callable

from strawberry.extensions import SchemaExtension

from incident_service.api.documents import Documents, cached_documents
from incident_service.api.errors import DomainErrorCodes, MaskUnexpected, error_codes
from incident_service.api.metrics_extension import graphql_metrics
from incident_service.api.persisted import Manifest
from incident_service.config import Settings
from incident_service.observability.metrics import OperationLabels

Extension = Callable[[], SchemaExtension] | type[SchemaExtension]


def extensions(settings: Settings, documents: Documents, manifest: Manifest) -> list[Extension]:
    # Factories, not instances: an instance would share state across requests.
    return [
        # First: its hooks exit last, after MaskErrors, so it counts final error codes.
        graphql_metrics(OperationLabels(manifest.names)),
        # Parsing and validation, with the depth, alias, token and introspection limits.
        cached_documents(documents),
        error_codes(suggestions=settings.field_suggestions_enabled),
        DomainErrorCodes,
        MaskUnexpected,
    ]
