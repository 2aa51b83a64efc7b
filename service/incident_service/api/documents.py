"""Each distinct GraphQL document is parsed and validated once per process.

Frontends send the same few documents millions of times; parsing and
validating one afresh for every request was half of the service's CPU.
`Documents` keeps the outcome per document text (the document, or the
errors that refused it) in a bounded LRU shared by HTTP and websocket
operations; `cached_documents` is the schema extension that uses it.

The limits (depth, aliases, tokens, introspection) are validation rules
built once here: Strawberry's limiter extensions build a new rule class for
every request, which no cache could key on. The cost (api/cost.py) depends
on the variables, so it is counted for every operation, on the cached
document, and reported in the response's `extensions.cost`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from cachetools import LRUCache
from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    specified_rules,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter, SchemaExtension
from strawberry.schema.schema import validate_document

from incident_service.api.cost import operation_cost
from incident_service.config import Settings

#: Operation names one document keeps a cost for.
MAX_COSTS_KEPT = 8


@dataclass(frozen=True)
class Prepared:
    """A document as parsed, with the validation errors that refuse it (if any)."""

    document: DocumentNode
    errors: tuple[GraphQLError, ...]
    #: Characters of its text: what the cache counts.
    size: int
    #: Cost by operation name, when run without variables (a pure function of the two).
    costs: dict[str | None, int] = field(default_factory=dict, compare=False)

    def cost(self, schema: GraphQLSchema, name: str | None, variables: Any) -> int:
        if variables:
            return operation_cost(schema, self.document, name, variables)
        known = self.costs.get(name)
        if known is None:
            known = operation_cost(schema, self.document, name, None)
            if len(self.costs) < MAX_COSTS_KEPT:  # names are the client's to choose
                self.costs[name] = known
        return known

    def fresh_errors(self) -> list[GraphQLError]:
        """Copies: the error extensions rewrite messages and codes in place."""
        return [
            GraphQLError(
                e.message,
                nodes=e.nodes,
                source=e.source,
                positions=e.positions,
                path=e.path,
                original_error=e.original_error,
                extensions=dict(e.extensions) if e.extensions else None,
            )
            for e in self.errors
        ]


class Documents:
    """Parsed and validated documents, by text, at most `max_bytes` of text in all: a
    flood of unique documents evicts older ones and never grows memory past that."""

    def __init__(self, settings: Settings) -> None:
        self.max_tokens = settings.max_tokens
        self.max_cost = settings.max_query_cost
        rules: list[type[ASTValidationRule]] = [
            *specified_rules,
            *QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
            *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
        ]
        if not settings.introspection_enabled:
            rules.append(NoSchemaIntrospectionCustomRule)
        self.rules = tuple(rules)
        self._cache: LRUCache[str, Prepared] = LRUCache(
            settings.document_cache_bytes, getsizeof=lambda p: p.size
        )

    def __len__(self) -> int:
        return len(self._cache)

    @property
    def size(self) -> int:
        """Characters of document text held now."""
        return int(self._cache.currsize)

    def get(self, text: str) -> Prepared | None:
        """The document as parsed and validated before, if it was."""
        return self._cache.get(text)

    def validated(self, text: str, document: DocumentNode, schema: GraphQLSchema) -> Prepared:
        """The document with its validation errors (none: it may run), kept."""
        known = self._cache.get(text)
        if known is not None and known.document is document:
            return known
        errors = validate_document(schema, document, self.rules)
        return self._keep(text, Prepared(document, tuple(errors), len(text)))

    def _keep(self, text: str, prepared: Prepared) -> Prepared:
        if len(text) <= self._cache.maxsize:
            self._cache[text] = prepared
        return prepared


def cached_documents(documents: Documents) -> Callable[[], SchemaExtension]:
    """The extension that takes parsing and validation from `documents`."""

    class CachedDocuments(SchemaExtension):
        def on_parse(self) -> Iterator[None]:
            context = self.execution_context
            known = documents.get(context.query) if context.query is not None else None
            if known is not None and context.graphql_document is None:
                context.graphql_document = known.document
            else:
                # Not seen before: Strawberry parses it (and refuses it with a syntax
                # error, which is not kept: it costs no more than a lookup).
                context.parse_options["max_tokens"] = documents.max_tokens
            yield

        cost: int | None = None

        def on_validate(self) -> Iterator[None]:
            context = self.execution_context
            if context.query is not None and context.graphql_document is not None:
                schema = context.schema._schema
                prepared = documents.validated(context.query, context.graphql_document, schema)
                context.pre_execution_errors = prepared.fresh_errors()
                if not prepared.errors:
                    self.cost = prepared.cost(schema, context.operation_name, context.variables)
                    if self.cost > documents.max_cost:
                        context.pre_execution_errors = [too_costly(self.cost, documents.max_cost)]
            yield

        def get_results(self) -> dict[str, Any]:
            if self.cost is None:
                return {}
            return {"cost": {"requested": self.cost, "limit": documents.max_cost}}

    return CachedDocuments


def too_costly(cost: int, limit: int) -> GraphQLError:
    return GraphQLError(
        f"The query may ask for {cost:,} objects, over the limit of {limit:,}: ask for "
        "smaller pages (first) or fewer nested lists and aliases",
        extensions={"code": "QUERY_TOO_COSTLY", "cost": {"requested": cost, "limit": limit}},
    )
