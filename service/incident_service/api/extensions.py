"""The schema's extensions, in order: metrics, limits, error codes, masking."""

from __future__ import annotations

from collections.abc import Callable

from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)

from incident_service.api.errors import DomainErrorCodes, MaskUnexpected, error_codes
from incident_service.api.metrics_extension import GraphQLMetrics
from incident_service.config import Settings

Extension = Callable[[], SchemaExtension] | type[SchemaExtension]


def extensions(settings: Settings) -> list[Extension]:
    # Factories, not instances: an instance would share state across requests.
    return [
        # First: its hooks exit last, after MaskErrors, so it counts final error codes.
        GraphQLMetrics,
        lambda: QueryDepthLimiter(max_depth=settings.max_query_depth),
        lambda: MaxAliasesLimiter(max_alias_count=settings.max_aliases),
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        error_codes(suggestions=settings.field_suggestions_enabled),
        *(
            []
            if settings.introspection_enabled
            else [lambda: AddValidationRules([NoSchemaIntrospectionCustomRule])]
        ),
        DomainErrorCodes,
        MaskUnexpected,
    ]
