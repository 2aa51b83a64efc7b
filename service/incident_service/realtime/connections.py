"""The open websockets of this process, so they can be closed with a reason.

Used for slow subscribers (TOO_SLOW) and for shutdown (SHUTDOWN, 1001, so
clients reconnect to another pod). Closing is idempotent per connection.
Once `draining` is set, new websockets are turned away with SHUTDOWN too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Iterator

from starlette.websockets import WebSocket, WebSocketState

log = logging.getLogger(__name__)


class Connections:
    def __init__(self) -> None:
        self.open: set[WebSocket] = set()
        self._closing: dict[WebSocket, asyncio.Task[None]] = {}
        self._per_ip: Counter[str] = Counter()
        #: Set once at SIGTERM (server.py); the process is then not ready either.
        self.draining = False

    @contextlib.contextmanager
    def track(self, websocket: WebSocket, client_ip: str = "") -> Iterator[WebSocket]:
        self.open.add(websocket)
        self._per_ip[client_ip] += 1
        try:
            yield websocket
        finally:
            self.open.discard(websocket)
            self._closing.pop(websocket, None)
            self._per_ip[client_ip] -= 1
            if self._per_ip[client_ip] <= 0:
                del self._per_ip[client_ip]

    def open_from(self, client_ip: str) -> int:
        """How many websockets this client IP holds open here."""
        return self._per_ip[client_ip]

    def __len__(self) -> int:
        return len(self.open)

    def close_soon(self, websocket: WebSocket, code: int, reason: str) -> None:
        """Close without waiting: the caller may be the broker, which never waits."""
        if websocket in self._closing or websocket not in self.open:
            return
        self._closing[websocket] = asyncio.create_task(self._close(websocket, code, reason))

    async def close_all(self, code: int, reason: str, timeout: float) -> None:
        for websocket in list(self.open):
            self.close_soon(websocket, code, reason)
        pending = list(self._closing.values())
        if pending:
            # A client that stopped reading cannot receive a close frame; do not
            # wait for it longer than the budget (uvicorn then drops it).
            await asyncio.wait(pending, timeout=timeout)

    @staticmethod
    async def _close(websocket: WebSocket, code: int, reason: str) -> None:
        if websocket.application_state is not WebSocketState.CONNECTED:
            return
        try:
            await websocket.close(code=code, reason=reason)
        except Exception as exc:  # already gone: nothing to close
            log.debug("closing a websocket failed: %s", exc)
