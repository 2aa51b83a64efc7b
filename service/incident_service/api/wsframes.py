"""Websocket frames are checked for shape before Strawberry's protocol handlers see them.

Strawberry assumes a decoded frame is an object with a well-typed payload: a
JSON array, a string, or `"query": 5` reaches code that raises, which drops
the connection without a close code (or reports a client mistake as an
internal error). Such a frame now closes the connection with 4400 and a
reason naming the problem, on both subprotocols.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import NonTextMessageReceived

from incident_service.api.wsguard import SocketGuard

#: Message types whose payload is an operation.
_OPERATION_TYPES = ("subscribe", "start")
INVALID_MESSAGE = 4400
BINARY = "WebSocket message type must be text"


def frame_problem(message: Any) -> str | None:
    """What is wrong with a decoded frame, or None when its shape is right."""
    if not isinstance(message, dict):
        return "a message must be a JSON object"
    if not isinstance(message.get("type"), str):
        return "a message needs a string `type`"
    if "id" in message and not isinstance(message["id"], str):
        return "`id` must be a string"
    payload = message.get("payload")
    if message["type"] not in _OPERATION_TYPES:
        return None
    if not isinstance(payload, dict):
        return "`payload` must be an object"
    if not isinstance(payload.get("query"), str):
        return "`payload.query` must be a string"
    for key, kind in (("variables", dict), ("extensions", dict), ("operationName", str)):
        if payload.get(key) is not None and not isinstance(payload[key], kind):
            return f"`payload.{key}` has the wrong type"
    return None


class CheckedWebSocketAdapter(ASGIWebSocketAdapter):
    async def iter_json(
        self, *, ignore_parsing_errors: bool = False
    ) -> AsyncGenerator[object, None]:
        guard: SocketGuard | None = getattr(self.ws.state, "guard", None)
        frames = super().iter_json(ignore_parsing_errors=ignore_parsing_errors)
        try:
            async for message in frames:
                problem = frame_problem(message)
                if problem is not None:
                    await self.ws.close(code=INVALID_MESSAGE, reason=f"Invalid message: {problem}")
                    return
                assert isinstance(message, dict)  # frame_problem says so
                refusal = await guard.admit(message) if guard is not None else None
                if refusal is not None:
                    await self.ws.close(code=refusal.code, reason=refusal.reason)
                    return
                yield message
        except NonTextMessageReceived:
            # The modern handler answers this itself; the legacy one closed with 1002.
            await self.ws.close(code=INVALID_MESSAGE, reason=BINARY)
