"""The postmortem as Markdown: `Incident.postmortemMarkdown` and
`GET /incidents/{key}/postmortem.md`.

The HTTP document is the same text as the GraphQL field, for a wiki or a
ticket to link to; it authenticates like `/graphql` (a bearer API key or
token) and needs VIEWER, as the field does.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from incident_service.access.authenticator import RateLimited, Unauthenticated
from incident_service.api.context import Resources
from incident_service.domain import postmortem_markdown
from incident_service.domain.incident import Incident
from incident_service.domain.principal import Role
from incident_service.domain.restriction import can_see

PATH = "/incidents/{key}/postmortem.md"
MEDIA_TYPE = "text/markdown; charset=utf-8"


async def markdown(resources: Resources, incident: Incident) -> str:
    """The whole postmortem of `incident` (placeholders where nothing is written yet)."""
    postmortem = await resources.postmortems.get(incident.id)
    timeline = await resources.postmortems.timeline(postmortem, incident)
    items = await resources.action_items.for_incident(incident.id)
    return postmortem_markdown.render(incident, postmortem, timeline, items)


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code}}]},
        status_code=status,
        headers=headers,
    )


def postmortem_routes(resources: Resources) -> list[Route]:
    async def document(request: Request) -> Response:
        try:
            principal = await resources.authenticator.principal_for(
                request.headers.get("authorization"),
                request.client.host if request.client else "unknown",
            )
        except Unauthenticated as e:
            return _error(401, "UNAUTHENTICATED", str(e), {"WWW-Authenticate": "Bearer"})
        except RateLimited as e:
            return _error(429, "RATE_LIMITED", str(e), {"Retry-After": str(e.retry_after)})
        if principal.kind == "anonymous":
            return _error(
                401,
                "UNAUTHENTICATED",
                "Authentication required: send Authorization: Bearer <api key>",
                {"WWW-Authenticate": "Bearer"},
            )
        if principal.role < Role.VIEWER:
            return _error(403, "FORBIDDEN", "Forbidden: this needs the VIEWER role")
        incident = await resources.incidents.get_by_key(request.path_params["key"][:40])
        if incident is None or not can_see(incident, principal):
            return _error(404, "NOT_FOUND", "no incident with this key")
        return PlainTextResponse(
            await markdown(resources, incident),
            media_type=MEDIA_TYPE,
            headers={"Cache-Control": "private, no-store"},
        )

    return [Route(PATH, document, methods=["GET"])]
