"""Routes of the built-in status page: `/status`, one page per public incident, static files.

The pages are public and anonymous: they read only the `statusPage`
subscription and the `publicIncident` query, which are built from public
types. Asset URLs carry a content hash so browsers may cache them for long
and still pick up a new release.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from incident_service.domain.status_page import PublicIncident
from incident_service.web import pages
from incident_service.web.pages import STATIC_DIR

#: A published incident by key; None for an unknown key and an internal incident alike.
IncidentLookup = Callable[[str], Awaitable[PublicIncident | None]]

#: Longer keys are not looked up (INC- and twelve digits at the most).
MAX_KEY_LENGTH = 40

# Nothing but our own files runs or loads; `connect-src 'self'` covers the
# same-origin ws:// and wss:// socket and the incident page's re-reads.
# Framing stays allowed so the page can be embedded (it is public and read-only).
# Forms post only to this site (the subscribe form, the unsubscribe button).
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}
PAGE_HEADERS = {"cache-control": "no-cache", **SECURITY_HEADERS}


class _CachedStatic(StaticFiles):
    """Static files with a cache lifetime: their URLs change when their content does."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["cache-control"] = "public, max-age=86400"
            response.headers.update(SECURITY_HEADERS)
        return response


def status_routes(
    title: str, history_days: int, incident: IncidentLookup, subscribe: bool = False
) -> list[BaseRoute]:
    page = pages.status_page(title, history_days, subscribe)
    # One body and one set of headers for every key that is not a public
    # incident, so the answer tells nothing about whether it exists.
    missing = pages.not_found(title)

    async def status_page(request: Request) -> HTMLResponse:
        return HTMLResponse(page, headers=PAGE_HEADERS)

    async def incident_page(request: Request) -> HTMLResponse:
        key = str(request.path_params["key"])
        found = await incident(key) if len(key) <= MAX_KEY_LENGTH else None
        if found is None:
            return HTMLResponse(missing, status_code=404, headers=PAGE_HEADERS)
        return HTMLResponse(pages.incident_page(title, found), headers=PAGE_HEADERS)

    return [
        Route("/status", status_page, methods=["GET"]),
        Route("/status/incidents/{key}", incident_page, methods=["GET"]),
        Mount("/status/static", app=_CachedStatic(directory=STATIC_DIR), name="status-static"),
    ]
