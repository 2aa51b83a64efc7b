"""ASGI middleware counting HTTP requests and open websockets for /metrics.

Pure ASGI (not BaseHTTPMiddleware) so websockets pass through it and
responses are not buffered. Route labels are the app's own fixed paths;
anything else is 'other', so scanners probing random URLs add no series.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable

from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from incident_service.observability import metrics

# Close codes worth telling apart; any other code a client sends is 'other'.
KNOWN_CLOSE_CODES = frozenset(
    {1000, 1001, 1002, 1003, 1005, 1006, 1008, 1009, 1011, 1012, 1013}
    | {4400, 4401, 4403, 4406, 4408, 4409, 4429, 4499, 4500}
)


class HttpMetricsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._exact: frozenset[str] | None = None
        self._prefixes: tuple[str, ...] = ()

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not a coroutine: one frame fewer held per open websocket
        # (http/middleware.py, PASS_THROUGH).
        if scope["type"] == "http":
            return self._http(scope, receive, send)
        if scope["type"] == "websocket":
            return self._websocket(scope, receive, send)
        return self.app(scope, receive, send)

    def route(self, scope: Scope) -> str:
        if self._exact is None:
            routes = getattr(scope.get("app"), "routes", ())
            self._exact = frozenset(
                r.path for r in routes if not isinstance(r, Mount) and "{" not in r.path
            )
            self._prefixes = tuple(r.path for r in routes if isinstance(r, Mount))
        path: str = scope.get("path", "")
        if path in self._exact:
            return path
        for prefix in self._prefixes:
            if path == prefix or path.startswith(prefix + "/"):
                return prefix
        return "other"

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = self.route(scope)
            metrics.HTTP_REQUESTS.labels(route, scope.get("method", ""), str(status)).inc()
            metrics.HTTP_DURATION.labels(route).observe(time.perf_counter() - start)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        accepted = False
        code: int | None = None

        def send_wrapper(message: Message) -> Awaitable[None]:
            # Not a coroutine: a data frame goes to `send` without an extra
            # coroutine per frame; only accept and close are looked at.
            nonlocal accepted, code
            kind = message["type"]
            if kind == "websocket.send":
                return send(message)
            if kind == "websocket.accept" and not accepted:
                accepted = True
                metrics.WEBSOCKETS_OPEN.inc()
            elif kind == "websocket.close" and code is None:
                code = int(message.get("code", 1000))
            return send(message)

        async def receive_wrapper() -> Message:
            nonlocal code
            message = await receive()
            if message["type"] == "websocket.disconnect" and code is None:
                code = int(message.get("code", 1005))
            return message

        try:
            await self.app(scope, receive_wrapper, send_wrapper)
        finally:
            if accepted:
                metrics.WEBSOCKETS_OPEN.dec()
                label = str(code) if code in KNOWN_CLOSE_CODES else "other"
                metrics.WEBSOCKET_CLOSES.labels(label).inc()
