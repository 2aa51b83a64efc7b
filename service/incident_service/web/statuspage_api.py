"""Routes of the Statuspage-compatible JSON API: anonymous GETs under `/api/v2`.

Each document is rendered from the latest public page (`current`, the
status page feed's cached page), once per page change, and served with an
ETag, a short shared cache life and `Access-Control-Allow-Origin: *`.
Anything but GET/HEAD on a document is a JSON 405, any other path below
`/api/v2` a JSON 404, and a page that cannot be built a JSON 503: never a
stack trace.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from incident_service.domain.status_page import StatusPage
from incident_service.web.documents import Documents
from incident_service.web.links import Site
from incident_service.web.statuspage_json import DOCUMENTS, Json

PREFIX = "/api/v2"
#: Seconds a client or shared cache may reuse a document without asking again.
MAX_AGE = 10
MEDIA_TYPE = "application/json"
READ_METHODS = ("GET", "HEAD")
ALLOW = "GET, HEAD, OPTIONS"
#: Routed to our handlers (not Starlette's plain-text 405), which answer in JSON.
EVERY_METHOD = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def encode(document: Json) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def error(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message}},
        status_code=status,
        headers={"access-control-allow-origin": "*", "cache-control": "no-store", **headers},
    )


def unavailable() -> Response:
    return error(
        503, "unavailable", "the status page cannot be read right now", **{"retry-after": "5"}
    )


def statuspage_api_routes(documents: Documents) -> list[BaseRoute]:
    known = ", ".join(f"{PREFIX}/{name}" for name in DOCUMENTS)

    def endpoint(name: str) -> Callable[[Request], Awaitable[Response]]:
        build = DOCUMENTS[name]

        def render(site: Site, page: StatusPage) -> bytes:
            return encode(build(site, page))

        async def serve(request: Request) -> Response:
            if request.method == "OPTIONS":
                return Response(status_code=204, headers={"allow": ALLOW})
            if request.method not in READ_METHODS:
                return error(
                    405, "method_not_allowed", f"{PREFIX}/{name} is read-only: use GET", allow=ALLOW
                )
            return await documents.respond(
                request,
                f"{PREFIX}/{name}",
                render,
                media_type=MEDIA_TYPE,
                max_age=MAX_AGE,
                unavailable=unavailable,
            )

        return serve

    async def not_found(request: Request) -> Response:
        return error(404, "not_found", f"no such endpoint: {request.url.path} (there are: {known})")

    return [
        *(Route(f"{PREFIX}/{name}", endpoint(name), methods=EVERY_METHOD) for name in DOCUMENTS),
        # Anything else below the prefix.
        Route(PREFIX, not_found, methods=EVERY_METHOD),
        Route(PREFIX + "/{rest:path}", not_found, methods=EVERY_METHOD),
    ]
