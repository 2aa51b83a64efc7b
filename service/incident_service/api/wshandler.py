"""Strawberry's graphql-transport-ws handler, holding less for a connection's life.

Strawberry cancels its connection-init timeout task when `connection_init`
arrives but keeps the task: a cancelled task keeps its CancelledError, whose
traceback keeps the frames it was cancelled in, for as long as the socket
is open. A status page holds its socket for hours, thousands at once; the
task is not needed once cancelled (shutdown only awaits it when set).

A status page subscription is parked after its first result: the broadcast
(api/subscriptions/broadcast.py) sends it the pages that follow, and the
handler tells the broadcast when the operation ends.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from typing import TYPE_CHECKING

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
    # Private, but what makes run_operation end without a `complete`, as for a
    # stream that closed the socket: the parked operation is still running.
    _OperationStreamClosed,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ConnectionInitMessage
from strawberry.types.execution import ExecutionResult, PreExecutionError

from incident_service.api import metrics_extension
from incident_service.api.context import Context
from incident_service.api.subscriptions.broadcast import Broadcast

if TYPE_CHECKING:
    from strawberry.schema.schema import StreamResult


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    #: Operations handed back by the broadcast (a result with errors): never parked again.
    _unparked: set[str] | None = None

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        task = self.connection_init_timeout_task
        if task is not None and (task.cancelling() or task.cancelled()):
            # Cancelled by the init just handled: the loop finishes it on its own.
            self.connection_init_timeout_task = None

    def _broadcast(self) -> Broadcast | None:
        broadcast = getattr(self.view, "broadcast", None)
        return broadcast if isinstance(broadcast, Broadcast) else None

    async def _send_result_stream(
        self, operation: Operation[Context, None], result_source: StreamResult
    ) -> None:
        broadcast = self._broadcast()
        if broadcast is not None and self._unparked is not None:
            broadcast = None if operation.id in self._unparked else broadcast
        first = True
        async for result in result_source:
            if first and isinstance(result, PreExecutionError):
                await self._handle_pre_execution_error(operation, result)
                return
            if not isinstance(result, ExecutionResult):
                await self._reject_incremental_delivery(operation)
                return
            ticket = broadcast.ticket(result) if first and broadcast is not None else None
            await operation.send_next(result)
            if ticket is not None and broadcast is not None:
                end = metrics_extension.SubscriptionEnd()
                unpark = functools.partial(self._unpark, context=contextvars.copy_context())
                broadcast.park(operation, ticket, unpark, end)
                # Set after the park, which starts tasks that must not inherit it: the
                # stream's close (by run_operation, in this task) is not its end.
                metrics_extension.goes_on_elsewhere(end)
                # Ends this task and closes the stream, without a `complete`.
                raise _OperationStreamClosed
            first = False

    def _unpark(self, operation: Operation[Context, None], context: contextvars.Context) -> None:
        """Stream `operation` through Strawberry again (in the context its task had)."""
        if self.operations.get(operation.id) is not operation:
            return
        if self._unparked is None:
            self._unparked = set()
        self._unparked.add(operation.id)
        operation.task = asyncio.create_task(self.run_operation(operation), context=context)
        operation.task.add_done_callback(self._task_done)

    async def cleanup_operation(self, operation_id: str) -> None:
        operation = self.operations.get(operation_id)
        broadcast = self._broadcast()
        if operation is not None and broadcast is not None:
            broadcast.leave(operation)
        await super().cleanup_operation(operation_id)
