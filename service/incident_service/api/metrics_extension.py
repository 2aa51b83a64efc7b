"""Prometheus instrumentation of GraphQL operations, as a Strawberry extension.

Counts operations by name and type, times queries and mutations, counts
errors by code and userErrors by code, and tracks running subscriptions.
List it first among the schema's extensions: hooks exit in reverse order,
so it then sees errors after ErrorPolicy has replaced the unexpected ones.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

from graphql import FieldNode, GraphQLError, OperationDefinitionNode
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from incident_service.domain.principal import ANONYMOUS, Role
from incident_service.observability import metrics
from incident_service.store import roundtrips

MASKED = "INTERNAL_SERVER_ERROR"


class SubscriptionEnd:
    """What counts the end of a subscription that goes on after its stream closed (a
    parked status page subscriber: api/subscriptions/broadcast.py): call it when the
    subscription really ends. Counting added after that is done at once."""

    def __init__(self) -> None:
        self._counts: list[Callable[[], None]] = []
        self._over = False

    def add(self, count: Callable[[], None]) -> None:
        if self._over:
            count()
        else:
            self._counts.append(count)

    def __call__(self) -> None:
        self._over = True
        counts, self._counts = self._counts, []
        for count in counts:
            count()


#: Set in the task of a subscription whose stream closes while it goes on elsewhere.
_ENDS_ELSEWHERE: ContextVar[SubscriptionEnd | None] = ContextVar(
    "subscription_ends_elsewhere", default=None
)


def goes_on_elsewhere(end: SubscriptionEnd) -> None:
    """For the rest of the calling task: the subscription whose stream closes now is not
    over; `end` counts its end. Set it only once nothing else will be started from this
    task: a task started later would inherit it."""
    _ENDS_ELSEWHERE.set(end)


def _subscription_ended(name: str, kind: str, root_field: str) -> None:
    metrics.GRAPHQL_OPERATIONS.labels(name, kind).inc()
    metrics.SUBSCRIPTIONS_ACTIVE.labels(root_field).dec()


def graphql_metrics(labels: metrics.OperationLabels) -> type[SchemaExtension]:
    """The extension, labelling operations by `labels`."""

    class Labelled(GraphQLMetrics):
        operation_labels = labels

    return Labelled


class GraphQLMetrics(SchemaExtension):
    operation_labels = metrics.OperationLabels(frozenset())

    def on_operation(self) -> Iterator[None]:
        self._subscription: str | None = None
        self._streamed = False
        self._round_trips: list[int] | None = None
        start = time.perf_counter()
        try:
            yield
        finally:
            self._finish(time.perf_counter() - start)

    def on_execute(self) -> Iterator[None]:
        # Runs once the document is parsed and valid; for a subscription it
        # wraps only the subscribe call, not the stream that follows.
        if self._type() == "subscription":
            self._subscription = _root_field(self.execution_context) or "unknown"
            metrics.SUBSCRIPTIONS_ACTIVE.labels(self._subscription).inc()
            yield
            return
        self._round_trips = roundtrips.counting()
        try:
            yield
        finally:
            roundtrips.stop_counting()

    def on_stream_result(self, result: Any) -> Iterator[None]:
        yield
        # After the yield, so after ErrorPolicy (listed later) has processed it.
        self._streamed = True
        _count_errors(getattr(result, "errors", None), self.execution_context.graphql_document)

    def _finish(self, elapsed: float) -> None:
        ctx = self.execution_context
        principal = getattr(ctx.context, "principal", ANONYMOUS)
        name = self.operation_labels.label(
            ctx.operation_name, signed_in=principal.role is not Role.ANONYMOUS
        )
        kind = self._type()
        if self._subscription is not None:
            ended = functools.partial(_subscription_ended, name, kind, self._subscription)
            later = _ENDS_ELSEWHERE.get()
            if later is not None:
                later.add(ended)
            else:
                ended()
        else:
            metrics.GRAPHQL_OPERATIONS.labels(name, kind).inc()
            metrics.GRAPHQL_DURATION.labels(name, kind).observe(elapsed)
        if self._round_trips is not None:
            metrics.GRAPHQL_ROUND_TRIPS.labels(name, kind).observe(self._round_trips[0])
        result = ctx.result
        if not self._streamed and result is not None:
            _count_errors(result.errors, ctx.graphql_document)
        if kind == "mutation" and result is not None:
            _count_user_errors(result.data)

    def _type(self) -> str:
        if self.execution_context.graphql_document is None:
            return "unknown"
        try:
            op = self.execution_context.operation_type
        except Exception:  # an operation name that matches no operation
            return "unknown"
        return {
            OperationType.QUERY: "query",
            OperationType.MUTATION: "mutation",
            OperationType.SUBSCRIPTION: "subscription",
        }.get(op, "unknown")


def _root_field(ctx: Any) -> str | None:
    document = ctx.graphql_document
    for definition in document.definitions if document else ():
        if isinstance(definition, OperationDefinitionNode):
            for selection in definition.selection_set.selections:
                if isinstance(selection, FieldNode):
                    return selection.name.value
    return None


def _error_code(error: GraphQLError, parsed: bool) -> str:
    code = (error.extensions or {}).get("code")
    if isinstance(code, str) and code.isupper() and len(code) <= 40:
        return code
    if not parsed:
        return "GRAPHQL_PARSE_FAILED"
    if error.path is None:
        return "GRAPHQL_VALIDATION_FAILED"
    return MASKED


def _count_errors(errors: list[GraphQLError] | None, document: Any) -> None:
    for error in errors or ():
        metrics.GRAPHQL_ERRORS.labels(_error_code(error, document is not None)).inc()


def _count_user_errors(data: dict[str, Any] | None) -> None:
    for payload in (data or {}).values():
        if not isinstance(payload, dict):
            continue
        for user_error in payload.get("userErrors") or ():
            code = user_error.get("code") if isinstance(user_error, dict) else None
            if isinstance(code, str) and code.isupper() and len(code) <= 40:
                metrics.GRAPHQL_USER_ERRORS.labels(code).inc()
