"""Execute a broadcast subscription event once, not once per subscriber.

Strawberry (graphql-core) runs a subscription's selection for every
subscriber on every event. For the status page every subscriber gets the
same object, and most send the same operation, so with thousands of
subscribers that repeated work dominates the cost of an event. This executor
keeps, for the current shared payload, one result per distinct operation
(query text, operation name, variables) and hands it to every subscriber
that sends that operation.

It applies only to payloads whose type sets `SHARED_EVENT = True`: their
fields must resolve from public, per-event data only (no context, no
permissions, no I/O), so the result cannot depend on who subscribed.

The cache is a `SharedEvents` object owned by the schema (one per schema,
so two schemas in one process, as in tests, never see each other's events).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from copy import copy
from json.encoder import encode_basestring_ascii as _string
from typing import Any, TypeVar

import strawberry
from cachetools import LRUCache
from graphql import ExecutionResult, GraphQLError
from graphql.pyutils import RefMap
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types import ExecutionContext
from strawberry.utils.await_maybe import await_maybe

from incident_service.api import extension_hooks
from incident_service.api.encoding import dumps
from incident_service.api.errors import log_client_errors

#: Key order of the result messages that take the short encoding path.
_MESSAGE_KEYS = ("id", "type", "payload")
#: Key order of the payloads it takes (Strawberry's, without errors).
_PAYLOAD_KEYS = (("data",), ("data", "extensions"))
#: Distinct operations remembered per payload; beyond it, execute normally.
MAX_OPERATIONS = 64

OperationKey = tuple[str, str | None, str]
S = TypeVar("S")
T = TypeVar("T")


class SharedEvents:
    """The current broadcast event of one schema: its results per operation and their JSON."""

    def __init__(self) -> None:
        self.payload: object | None = None
        self.results: dict[OperationKey, ExecutionResult] = {}
        # JSON of the `data` of each shared result, by identity, encoded on first send.
        self.encoded: dict[int, tuple[object, str | None]] = {}
        self._source: object | None = None
        self._built: object | None = None
        # The last executor that ran each operation: what a parked subscriber's next
        # result is computed with (api/subscriptions/broadcast.py). Never cleared by
        # an event; at most MAX_OPERATIONS, the newest kept.
        self.executors: LRUCache[OperationKey, Any] = LRUCache(MAX_OPERATIONS)

    def share(self, source: S, build: Callable[[S], T]) -> T:
        """One payload object per `source` object, the same for every subscriber.

        Results are cached by payload identity, so subscribers must be handed
        the very same payload object for one event.
        """
        if self._source is not source or self._built is None:
            self._source, self._built = source, build(source)
        return self._built  # type: ignore[return-value]  # built by `build` for this source

    def start(self, payload: object) -> None:
        """A new event: results for the previous one are never needed again."""
        self.payload = payload
        self.results.clear()
        self.encoded.clear()

    def remember(self, key: OperationKey, result: ExecutionResult, executor: Any) -> None:
        if len(self.results) < MAX_OPERATIONS:
            self.results[key] = result
            self.encoded[id(result.data)] = (result.data, None)
            # Without the subscriber's context or the event: nothing a shared result
            # reads, and kept for as long as the operation has parked subscribers.
            neutral = copy(executor)
            neutral.context_value = None
            neutral.root_value = None
            self.executors[key] = neutral

    def key_of(self, result: object) -> OperationKey | None:
        """The operation whose shared result for the current event `result` is, if any."""
        if not self.is_shared_result(result):
            return None
        data = getattr(result, "data", None)
        for key, shared in self.results.items():
            if shared.data is data:
                return key
        return None

    def is_shared_result(self, result: object) -> bool:
        """Whether `result` carries a shared event's cached data and no errors."""
        data = getattr(result, "data", None)
        if data is None or getattr(result, "errors", None):
            return False
        entry = self.encoded.get(id(data))
        return entry is not None and entry[0] is data

    def encode_message(self, message: object) -> str | None:
        """JSON of a websocket result message carrying shared data, or None if it does not.

        The data part is encoded once per event and spliced into each
        subscriber's message (which differs only by the operation id).
        """
        if not isinstance(message, dict) or "id" not in message:
            return None
        payload = message.get("payload")
        if not isinstance(payload, dict) or tuple(payload) not in _PAYLOAD_KEYS:
            return None
        data = payload["data"]
        entry = self.encoded.get(id(data))
        if entry is None or entry[0] is not data:
            return None
        body = entry[1]
        if body is None:
            body = dumps(data)
            self.encoded[id(data)] = (data, body)
        # The operation's extensions (its cost): small, and the same for each event.
        extensions = payload.get("extensions")
        tail = ',"extensions":' + dumps(extensions) if extensions else ""
        inner = '{"data":' + body + tail + "}"
        op_id, kind = message["id"], message.get("type")
        if tuple(message) == _MESSAGE_KEYS and isinstance(op_id, str) and isinstance(kind, str):
            # graphql-transport-ws `next` / graphql-ws `data`: the same text as below, cheaper.
            head = '{"id":' + _string(op_id) + ',"type":' + _string(kind)
            return head + ',"payload":' + inner + "}"
        parts = [
            json.dumps(k) + ":" + (inner if k == "payload" else json.dumps(v))
            for k, v in message.items()
        ]
        return "{" + ",".join(parts) + "}"


def _shared_events(executor: StrawberryGraphQLCoreExecutionContext) -> SharedEvents | None:
    # Strawberry links its graphql-core schema back to the Strawberry one.
    owner = getattr(executor.schema, "_strawberry_schema", None)
    shared = getattr(owner, "shared_events", None)
    return shared if isinstance(shared, SharedEvents) else None


class _MadeOnFirstUse:
    """An executor's memo map of execution plans, made when first read.

    graphql-core makes two for every executor. A subscription's own executor never
    executes (a copy per event does), yet it lives as long as the subscription:
    making them on first use saves about 1.6 KB per subscriber. An empty map
    assigned (by the constructor) is not kept."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = f"_{name}_made"

    def __get__(self, executor: Any, owner: type | None = None) -> Any:
        if executor is None:
            return self
        plans = executor.__dict__.get(self.slot)
        if plans is None:
            plans = executor.__dict__[self.slot] = RefMap()
        return plans

    def __set__(self, executor: Any, plans: Any) -> None:
        if plans:
            executor.__dict__[self.slot] = plans

    def forget(self, executor: Any) -> None:
        executor.__dict__.pop(self.slot, None)


class SharedEventExecutor(StrawberryGraphQLCoreExecutionContext):
    _initial_execution_plans = _MadeOnFirstUse()
    _deferred_execution_plans = _MadeOnFirstUse()

    def execute_operation(self, serially: bool | None = None) -> Any:
        payload = self.root_value
        shared = _shared_events(self)
        if shared is None or not getattr(type(payload), "SHARED_EVENT", False):
            return super().execute_operation(serially)
        key = self._operation_key()
        if payload is not shared.payload:
            shared.start(payload)
        elif key is not None and key in shared.results:
            return shared.results[key]
        result = super().execute_operation(serially)
        if key is not None and isinstance(result, ExecutionResult) and not result.errors:
            shared.remember(key, result, self)
        return result

    def build_per_event_executor(self, payload: Any) -> Any:
        # A cached result needs no per-event executor (which copies this one).
        shared = _shared_events(self)
        if (
            shared is not None
            and payload is shared.payload
            and getattr(type(payload), "SHARED_EVENT", False)
        ):
            key = self._operation_key()
            if key is not None and key in shared.results:
                return _Done(shared.results[key])
        executor = super().build_per_event_executor(payload)
        # graphql-core 3.3.2 copies the executor shallowly, so every event of a
        # subscription shared one subfield memo keyed by the identity of that event's
        # own lists (and keeping them alive): it grew by each event for the life of
        # the subscription, about 1.8 KB per event per subscriber (the soak test).
        executor._relevant_sub_fields = {}
        # Likewise its own plans, made when it first needs them.
        for plans in _PLANS:
            plans.forget(executor)
        return executor

    def _operation_key(self) -> OperationKey | None:
        # A subscription's operation and variables never change: encoding the
        # variables once per subscriber, not once per subscriber and event.
        try:
            key: OperationKey | None = self.__dict__["_shared_key"]
        except KeyError:
            key = self.__dict__["_shared_key"] = self._compute_key()
        return key

    def _compute_key(self) -> OperationKey | None:
        loc = self.operation.loc
        if loc is None:
            return None
        name = self.operation.name.value if self.operation.name else None
        try:
            variables = json.dumps(self.variable_values.coerced, sort_keys=True, default=str)
        except (TypeError, ValueError):
            return None
        return loc.source.body, name, variables


_PLANS = (
    SharedEventExecutor._initial_execution_plans,
    SharedEventExecutor._deferred_execution_plans,
)


class _NoHooks:
    """An `on_stream_result` context that runs no extension hook."""

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc: object) -> None:
        return None


_NO_HOOKS = _NoHooks()


class SharedEventExtensionsRunner(SchemaExtensionsRunner):
    """Skips the per-result extension hooks for a shared, error-free result.

    The schema's `on_stream_result` hooks (ErrorPolicy,
    GraphQLMetrics) act only on a result's errors; a shared result has none
    and the same data for every subscriber, so running them for each of
    thousands of subscribers on every event changes nothing but costs a
    context manager per extension. A result with errors still runs them all.
    Their "a result was streamed" flags only decide whether the operation's
    last result is processed once more at its end, which for a result
    without errors does nothing either.

    Extension results are collected only from extensions that have any
    (the base `get_results` returns {}), for every operation.
    """

    _with_results: list[SchemaExtension] | None = None

    def __init__(self, shared: SharedEvents, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.shared = shared
        self._lean = extension_hooks.lean(self.extensions)

    # Each stage's hooks without Strawberry's per-operation inspection (extension_hooks).

    def operation(self) -> Any:
        return self._stage("on_operation") if self._lean else super().operation()

    def parsing(self) -> Any:
        return self._stage("on_parse") if self._lean else super().parsing()

    def validation(self) -> Any:
        return self._stage("on_validate") if self._lean else super().validation()

    def executing(self) -> Any:
        return self._stage("on_execute") if self._lean else super().executing()

    def _stage(self, stage: str, *args: Any) -> extension_hooks.StageHooks:
        return extension_hooks.StageHooks(extension_hooks.hooks_of(self.extensions, stage), *args)

    async def get_extensions_results(self, ctx: Any) -> dict[str, Any]:
        # Called for every result of every subscriber; only extensions that
        # override get_results can contribute (the base one returns {}).
        if self._with_results is None:
            self._with_results = [
                e
                for e in self.extensions
                if type(e).get_results is not SchemaExtension.get_results
                or "get_results" in getattr(e, "__dict__", {})
            ]
        data: dict[str, Any] = {}
        for extension in self._with_results:
            data.update(await await_maybe(extension.get_results()))
        data.update(ctx.extensions_results)
        return data

    def on_stream_result(self, result: Any) -> Any:
        if self.shared.is_shared_result(result):
            return _NO_HOOKS
        if self._lean:
            return self._stage("on_stream_result", result)
        return super().on_stream_result(result)


class _Done:
    """Stands in for a per-event executor whose result is already known."""

    def __init__(self, result: ExecutionResult) -> None:
        self.result = result

    def execute_operation(self, serially: bool | None = None) -> ExecutionResult:
        return self.result


class SharedEventSchema(strawberry.Schema):
    """A schema that owns the shared-event cache; its subscriptions skip extension hooks
    on shared results. Use it with `execution_context_class=SharedEventExecutor`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.shared_events = SharedEvents()
        super().__init__(*args, **kwargs)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Not Strawberry's default (every error at ERROR with a traceback).
        log_client_errors(errors)

    def create_extensions_runner(
        self, execution_context: Any, extensions: list[Any]
    ) -> SchemaExtensionsRunner:
        return SharedEventExtensionsRunner(
            self.shared_events, execution_context=execution_context, extensions=extensions
        )
