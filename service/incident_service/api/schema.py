"""The schema, assembled from the per-domain parts."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.tools import merge_types

from incident_service.api.errors import MaskUnexpected, error_codes
from incident_service.api.incidents.mutations import IncidentMutations
from incident_service.api.incidents.queries import IncidentQueries
from incident_service.api.metrics_extension import GraphQLMetrics
from incident_service.api.realtime.queries import StatusPageQueries
from incident_service.api.realtime.shared_execution import (
    SharedEventExecutor,
    SharedEventSchema,
)
from incident_service.api.realtime.subscriptions import RealtimeSubscriptions
from incident_service.api.services.resolvers import ServiceMutations, ServiceQueries
from incident_service.apikeys.api import AccessMutations, AccessQueries
from incident_service.config import Settings
from incident_service.domain.errors import DomainError

Query = merge_types("Query", (IncidentQueries, ServiceQueries, AccessQueries, StatusPageQueries))
Mutation = merge_types("Mutation", (IncidentMutations, ServiceMutations, AccessMutations))
Subscription = merge_types("Subscription", (RealtimeSubscriptions,))


def _should_mask(error: GraphQLError) -> bool:
    """Mask only the unexpected: our own typed errors and GraphQL's are safe to show."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return False
    if isinstance(original, DomainError):
        return False
    return not (error.extensions and "code" in error.extensions)


def _code_domain_errors(errors: list[GraphQLError] | None) -> None:
    for err in errors or []:
        if isinstance(err.original_error, DomainError):
            err.message = err.original_error.message
            err.extensions = {**(err.extensions or {}), "code": err.original_error.code.value}


def _domain_error_codes() -> type[SchemaExtension]:
    class DomainErrorCodes(SchemaExtension):
        """Give DomainErrors raised in queries an extensions.code."""

        def on_execute(self):  # type: ignore[no-untyped-def]
            yield
            result = self.execution_context.result
            _code_domain_errors(result.errors if result else None)

        def on_stream_result(self, result):  # type: ignore[no-untyped-def]
            # Subscriptions: errors of a stream's results never pass on_execute.
            _code_domain_errors(getattr(result, "errors", None))
            yield

    return DomainErrorCodes


def extensions(settings: Settings) -> list[Callable[[], SchemaExtension] | type[SchemaExtension]]:
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
        _domain_error_codes(),
        lambda: MaskUnexpected(should_mask_error=_should_mask),
    ]


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    return SharedEventSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions(settings or Settings()),
        execution_context_class=SharedEventExecutor,
    )
