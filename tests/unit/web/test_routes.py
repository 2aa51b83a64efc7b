"""The routes of the built-in pages: an incident page only for a published incident, and one
and the same 404 for every other key."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
from starlette.applications import Starlette

from incident_service.domain.enums import PublicStatus
from incident_service.domain.status_page import PublicIncident
from incident_service.web.routes import status_routes

T0 = datetime(2026, 3, 12, 14, 5, tzinfo=UTC)
PUBLISHED = PublicIncident(
    "INC-1", "Payments are failing", PublicStatus.IDENTIFIED, (), (), T0, T0, None
)


def get(*paths: str) -> tuple[list[httpx.Response], list[str]]:
    """GET each path from the routes in-process; also return the keys that were looked up."""
    asked: list[str] = []

    async def lookup(key: str) -> PublicIncident | None:
        asked.append(key)
        return PUBLISHED if key == "INC-1" else None

    app = Starlette(routes=status_routes("Service status", 14, lookup))

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            return [await http.get(path) for path in paths]

    return asyncio.run(run()), asked


def test_a_published_incident_has_its_page_with_the_page_headers() -> None:
    (response,), _ = get("/status/incidents/INC-1")
    assert response.status_code == 200
    assert "Payments are failing" in response.text
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-cache"


def test_every_other_key_gets_the_same_404() -> None:
    keys = ("INC-2", "INC-999999", "nonsense", "x" * 41, "%3Cscript%3E")
    answers, asked = get(*(f"/status/incidents/{key}" for key in keys))
    assert {r.status_code for r in answers} == {404}
    assert len({r.text for r in answers}) == 1
    assert len({tuple(sorted(r.headers.items())) for r in answers}) == 1
    assert "x" * 41 not in asked  # too long to be a key: not even looked up


def test_the_status_page_still_answers() -> None:
    (response,), _ = get("/status")
    assert response.status_code == 200 and 'data-page="status"' in response.text
