"""Routes of the built-in status page: `/status` and its static files.

The page is public and anonymous: it reads only the `statusPage`
subscription, which is built from public types. Asset URLs carry a content
hash so browsers may cache them for long and still pick up a new release.
"""

from __future__ import annotations

import hashlib
from html import escape
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).parent / "static"

# Nothing but our own files runs or loads; `connect-src 'self'` covers the
# same-origin ws:// and wss:// socket. Framing stays allowed so the page can
# be embedded (it is public and read-only).
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


def _asset_version() -> str:
    digest = hashlib.sha256()
    for name in ("status.css", "status.js"):
        digest.update((STATIC_DIR / name).read_bytes())
    return digest.hexdigest()[:12]


def render_page(title: str) -> str:
    template = (STATIC_DIR / "status.html").read_text(encoding="utf-8")
    return template.replace("{{title}}", escape(title)).replace("{{version}}", _asset_version())


class _CachedStatic(StaticFiles):
    """Static files with a cache lifetime: their URLs change when their content does."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["cache-control"] = "public, max-age=86400"
            response.headers.update(SECURITY_HEADERS)
        return response


def status_routes(title: str) -> list[BaseRoute]:
    page = render_page(title)

    async def status_page(request: Request) -> HTMLResponse:
        return HTMLResponse(page, headers={"cache-control": "no-cache", **SECURITY_HEADERS})

    return [
        Route("/status", status_page, methods=["GET"]),
        Mount("/status/static", app=_CachedStatic(directory=STATIC_DIR), name="status-static"),
    ]
