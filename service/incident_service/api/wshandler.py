"""Strawberry's graphql-transport-ws handler, holding less for a connection's life.

Strawberry cancels its connection-init timeout task when `connection_init`
arrives but keeps the task: a cancelled task keeps its CancelledError, whose
traceback keeps the frames it was cancelled in, for as long as the socket
is open. A status page holds its socket for hours, thousands at once; the
task is not needed once cancelled (shutdown only awaits it when set).
"""

from __future__ import annotations

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ConnectionInitMessage

from incident_service.api.context import Context


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        task = self.connection_init_timeout_task
        if task is not None and (task.cancelling() or task.cancelled()):
            # Cancelled by the init just handled: the loop finishes it on its own.
            self.connection_init_timeout_task = None
