"""Websocket frames are checked for shape before Strawberry's protocol handlers see them.

Strawberry assumes a decoded frame is an object with a well-typed payload: a
JSON array, a string, or `"query": 5` reaches code that raises, which drops
the connection without a close code (or reports a client mistake as an
internal error). Such a frame now closes the connection with 4400 and a
reason naming the problem, on both subprotocols.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import AsyncGenerator
from json import JSONDecodeError
from typing import Any

from starlette.websockets import WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import NonJsonMessageReceived

from incident_service.api.persisted import PersistedDocuments, PersistedQueryError
from incident_service.api.wsguard import SocketGuard

#: Message types whose payload is an operation.
_OPERATION_TYPES = ("subscribe", "start")
INVALID_MESSAGE = 4400
BINARY = "WebSocket message type must be text"
#: A frame could not be checked (the database is away): the client retries.
UNAVAILABLE = 1011

log = logging.getLogger(__name__)


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
    for key, kind in (("variables", dict), ("extensions", dict), ("operationName", str)):
        if payload.get(key) is not None and not isinstance(payload[key], kind):
            return f"`payload.{key}` has the wrong type"
    query, extensions = payload.get("query"), payload.get("extensions") or {}
    if not isinstance(query, str) and not (query is None and "persistedQuery" in extensions):
        return "`payload.query` must be a string"
    return None


def operation_error(message: dict[str, Any], error: PersistedQueryError) -> dict[str, Any]:
    """The `error` message refusing one operation, in its subprotocol's shape."""
    formatted = {"message": error.message, "extensions": {"code": error.code}}
    legacy = message["type"] == "start"
    return {
        "id": message.get("id"),
        "type": "error",
        "payload": formatted if legacy else [formatted],
    }


class CheckedWebSocketAdapter(ASGIWebSocketAdapter):
    """Reads the frames itself (Strawberry's adapter drops the ones that are not JSON
    before anything could count them), charges each against the connection's budget,
    checks its shape and its rules, and closes with a code instead of an exception."""

    async def iter_json(
        self, *, ignore_parsing_errors: bool = False
    ) -> AsyncGenerator[object, None]:
        guard: SocketGuard | None = getattr(self.ws.state, "guard", None)
        try:
            while self.ws.application_state != WebSocketState.DISCONNECTED:
                try:
                    text = await self.ws.receive_text()
                except KeyError:  # a binary frame
                    await self._close(INVALID_MESSAGE, BINARY)
                    return
                refusal = guard.charge() if guard is not None else None
                if refusal is not None:
                    await self._close(refusal.code, refusal.reason)
                    return
                try:
                    message = self.view.decode_json(text)
                except JSONDecodeError as exc:
                    if ignore_parsing_errors:  # the legacy protocol passes over it
                        continue
                    raise NonJsonMessageReceived from exc
                except RecursionError:
                    await self._close(INVALID_MESSAGE, "Invalid message: nested too deeply")
                    return
                problem = frame_problem(message)
                if problem is not None:
                    await self._close(INVALID_MESSAGE, f"Invalid message: {problem}")
                    return
                assert isinstance(message, dict)  # frame_problem says so
                try:
                    refusal = await guard.admit(message) if guard is not None else None
                except Exception as exc:  # the database is away: one line, not a traceback
                    log.warning("websocket frame refused: %r", exc)
                    await self._close(UNAVAILABLE, "Service unavailable: retry")
                    return
                if refusal is not None:
                    await self._close(refusal.code, refusal.reason)
                    return
                if message["type"] in _OPERATION_TYPES and not await self._resolve(message):
                    continue
                yield message
        except WebSocketDisconnect:
            pass

    async def _resolve(self, message: dict[str, Any]) -> bool:
        """Put the text of a persisted query in the operation; False (and an `error` for the
        operation, the socket staying open) when it cannot be served."""
        persisted: PersistedDocuments = getattr(self.view, "persisted")  # noqa: B009
        payload = message["payload"]
        try:
            text = persisted.text(payload.get("query"), payload.get("extensions"))
        except PersistedQueryError as exc:
            await self.send_json(operation_error(message, exc))
            return False
        # A subscription keeps its text for its whole life, and a thousand status pages
        # send the same one: one copy (an interned string is freed with its last user).
        payload["query"] = sys.intern(text) if isinstance(text, str) else text
        return True

    async def _close(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await self.ws.close(code=code, reason=reason)
