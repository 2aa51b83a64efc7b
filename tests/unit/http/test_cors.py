"""Which paths get the open CORS policy."""

from __future__ import annotations

from starlette.types import Receive, Scope, Send

from incident_service.http.cors import CORSByPath


async def _app(scope: Scope, receive: Receive, send: Send) -> None:  # pragma: no cover
    pass


def test_public_paths_are_exact_or_prefixes_ending_with_a_slash() -> None:
    cors = CORSByPath(
        _app, public_paths=("/api/v2", "/api/v2/", "/status/feed.atom"), allow_origins=[]
    )
    assert cors.is_public("/api/v2")
    assert cors.is_public("/api/v2/summary.json")
    assert cors.is_public("/status/feed.atom")
    assert not cors.is_public("/api/v2x")
    assert not cors.is_public("/status/feed.atom2")
    assert not cors.is_public("/graphql")
    assert not cors.is_public("/status")
