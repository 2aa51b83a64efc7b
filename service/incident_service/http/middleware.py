"""Small ASGI middlewares in front of every route: request id, request body size.

PASS_THROUGH: a middleware's `__call__` is a plain function returning the
awaitable it hands on, not a coroutine awaiting it. A websocket lives for
hours, and every coroutine frame between the server and the endpoint stays
suspended, holding memory, for all that time; one that only forwards need
not be among them.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from incident_service.observability import requestid


class RequestIdMiddleware:
    """Give each request (and websocket connection) an id: in a contextvar and `X-Request-ID`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not a coroutine: a websocket is handed on as it is, so no frame of this
        # middleware stays suspended for the socket's life (see PASS_THROUGH).
        if scope["type"] not in ("http", "websocket"):
            return self.app(scope, receive, send)
        rid = requestid.accept(Headers(scope=scope).get(requestid.HEADER))
        # Set in the caller's context, the task that runs the app: the same
        # context a coroutine of ours would have set it in.
        requestid.set_current(rid)
        scope.setdefault("state", {})["request_id"] = rid
        if scope["type"] == "websocket":
            # Only an HTTP response carries the header; a websocket's sends
            # pass straight through (a wrapper would cost on every frame).
            return self.app(scope, receive, send)
        return self._http(scope, receive, send, rid)

    async def _http(self, scope: Scope, receive: Receive, send: Send, rid: str) -> None:
        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"x-request-id"]
                headers.append((b"x-request-id", rid.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_id)


def too_large_body(limit: int) -> bytes:
    return json.dumps(
        {
            "errors": [
                {
                    "message": f"Request body too large: the limit is {limit} bytes",
                    "extensions": {"code": "REQUEST_TOO_LARGE", "limit": limit},
                }
            ]
        }
    ).encode()


class BodySizeLimitMiddleware:
    """Answer 413 to a request body over `max_bytes`, counting the bytes actually received.

    Content-Length is checked first (no read at all), but it may be absent
    (chunked transfer) or lie, so the body is also counted while it is read;
    it is buffered (at most `max_bytes`) and replayed to the app.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] != "http":
            return self.app(scope, receive, send)
        return self._http(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                # The client went away; let the app see the disconnect.
                await self.app(scope, _replay([message], receive), send)
                return
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_bytes:
                await self._reject(send)
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        whole = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([whole], receive), send)

    async def _reject(self, send: Send) -> None:
        body = too_large_body(self.max_bytes)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
