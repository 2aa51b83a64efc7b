"""CORS by path: the allow-list for the API, any origin for public read-only documents.

`/graphql` keeps `CORS_ALLOW_ORIGINS`: a browser on another origin may use it
only when that origin is listed. The public documents (the Statuspage
JSON API, the feeds) are anonymous and read-only, and widgets on any site
read them, so their preflights and simple GETs are answered for every
origin (`*`, never with credentials).
"""

from __future__ import annotations

from collections.abc import Awaitable, Collection
from typing import Any

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send


class CORSByPath:
    def __init__(
        self, app: ASGIApp, /, *, public_paths: Collection[str], **allow_list: Any
    ) -> None:
        """`public_paths`: exact paths, or prefixes when they end with `/`.
        `allow_list`: CORSMiddleware's arguments for every other path."""
        self.app = app
        self._exact = frozenset(p for p in public_paths if not p.endswith("/"))
        self._prefixes = tuple(p for p in public_paths if p.endswith("/"))
        self.public = CORSMiddleware(
            app,
            allow_origins=["*"],
            allow_methods=["GET", "HEAD"],
            # Conditional and cache headers a widget may set; nothing is credentialed.
            allow_headers=["*"],
            expose_headers=["etag", "x-request-id"],
            max_age=86400,
        )
        self.allow_listed = CORSMiddleware(app, **allow_list)

    def is_public(self, path: str) -> bool:
        return path in self._exact or path.startswith(self._prefixes)

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not a coroutine, and websockets go straight to the app: CORS applies
        # to HTTP only, and a forwarding frame held for a websocket's life is
        # memory for nothing (see http/middleware.py, PASS_THROUGH).
        if scope["type"] != "http":
            return self.app(scope, receive, send)
        if self.is_public(scope["path"]):
            return self.public(scope, receive, send)
        return self.allow_listed(scope, receive, send)
