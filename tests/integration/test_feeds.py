"""The Atom and RSS feeds over HTTP, read back with feedparser (as feed readers do).

The service is shared with the other tests: each test looks only at the
entries of the incidents and windows it made.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser
import httpx
import pytest

from tests.support.api import (
    ADD_NOTE,
    CANCEL_MAINTENANCE,
    create_service,
    declare,
    ok,
    post_update,
    schedule_maintenance,
)
from tests.support.polling import wait_for
from tests.support.processes import GraphQLClient, ServiceProcess

FEEDS = {
    "/status/feed.atom": "application/atom+xml",
    "/status/feed.rss": "application/rss+xml",
}


@pytest.fixture(scope="module")
def http(service: ServiceProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service.url, timeout=30) as client:
        yield client


def read(http: httpx.Client, path: str) -> tuple[str, Any]:
    """The feed's text and what feedparser makes of it (which must be well-formed)."""
    response = http.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(FEEDS[path])
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return response.text, parsed


def entries_titled(http: httpx.Client, path: str, prefix: str) -> list[Any]:
    return [e for e in read(http, path)[1].entries if e.title.startswith(prefix)]


def test_incident_updates_in_both_feeds_and_nothing_internal(
    http: httpx.Client, gql: GraphQLClient, service: ServiceProcess, tag: str
) -> None:
    hidden = f"internal-{uuid.uuid4().hex}"
    api = create_service(gql, f"{tag} API")
    internal = create_service(gql, f"{tag} {hidden}", public=False)
    incident = declare(
        gql,
        f"{tag} login fails",
        description=hidden,
        componentImpacts=[
            {"serviceId": api, "status": "PARTIAL_OUTAGE"},
            {"serviceId": internal, "status": "MAJOR_OUTAGE"},
        ],
    )
    ok(gql, ADD_NOTE, id=incident["id"], body=f"{hidden} note")
    post_update(gql, incident["id"], f"{hidden} internal update", "INTERNAL")
    post_update(gql, incident["id"], f"{tag} first <public> update & more", "PUBLIC")
    post_update(gql, incident["id"], f"{tag} second public update", "PUBLIC")
    link = f"{service.url}/status/incidents/{incident['key']}"

    for path in FEEDS:
        entries = wait_for(
            lambda path=path: (
                len(found := entries_titled(http, path, f"{tag} login fails")) == 2 and found
            )
        )
        # Newest first, each linking to the incident's public page.
        assert [e.link for e in entries] == [link, link]
        assert f"{tag} second public update" in entries[0].summary
        # Text, escaped once: a reader shows the characters, not markup.
        assert f"{tag} first &lt;public&gt; update &amp; more" in entries[1].summary
        assert entries[0].title == f"{tag} login fails: Investigating"
        assert len({e.id for e in entries}) == 2
        text, _ = read(http, path)
        assert hidden not in text


def test_entry_ids_are_stable(http: httpx.Client, gql: GraphQLClient, tag: str) -> None:
    incident = declare(gql, f"{tag} slow search")
    post_update(gql, incident["id"], f"{tag} looking", "PUBLIC")
    first = {
        path: wait_for(lambda path=path: entries_titled(http, path, f"{tag} slow search"))[0].id
        for path in FEEDS
    }
    post_update(gql, incident["id"], f"{tag} still looking", "PUBLIC")
    for path in FEEDS:
        both = wait_for(
            lambda path=path: len(e := entries_titled(http, path, f"{tag} slow search")) == 2 and e
        )
        # The older entry keeps its id: a reader does not see it twice.
        assert both[1].id == first[path]


def test_published_maintenance_is_in_the_feeds_and_unpublished_is_not(
    http: httpx.Client, gql: GraphQLClient, service: ServiceProcess, tag: str
) -> None:
    hidden = f"internal-{uuid.uuid4().hex}"
    db = create_service(gql, f"{tag} database")
    start = datetime.now(UTC) + timedelta(days=2)
    window = schedule_maintenance(
        gql, f"{tag} disk swap", [db], start, start + timedelta(hours=1), description="New disks"
    )
    secret = schedule_maintenance(
        gql, f"{tag} {hidden}", [db], start, start + timedelta(hours=1), publish=False
    )
    try:
        for path in FEEDS:
            (entry,) = wait_for(lambda path=path: entries_titled(http, path, f"{tag} disk swap"))
            assert entry.title == f"{tag} disk swap: Scheduled"
            assert entry.link == f"{service.url}/status"
            assert "New disks" in entry.summary
            assert hidden not in read(http, path)[0]
        # A cancellation is news too: readers told of the window hear it is off.
        ok(gql, CANCEL_MAINTENANCE, id=window["id"], message=f"{tag} not needed")
        for path in FEEDS:
            entries = wait_for(
                lambda path=path: (
                    len(e := entries_titled(http, path, f"{tag} disk swap")) == 2 and e
                )
            )
            assert entries[0].title == f"{tag} disk swap: Cancelled"
            assert f"{tag} not needed" in entries[0].summary
    finally:
        gql(CANCEL_MAINTENANCE, {"input": {"id": secret["id"]}})


@pytest.mark.parametrize("path", list(FEEDS))
def test_etag_304_cache_and_cors(http: httpx.Client, path: str) -> None:
    def revalidated() -> bool:
        first = http.get(path, headers={"origin": "https://reader.example"})
        assert first.headers["cache-control"] == "public, max-age=60"
        assert first.headers["access-control-allow-origin"] == "*"
        again = http.get(path, headers={"if-none-match": first.headers["etag"]})
        if again.status_code == 200:  # another test changed the page in between
            return False
        assert again.status_code == 304 and again.content == b""
        return True

    wait_for(revalidated)


def test_control_characters_typed_into_public_text_do_not_break_the_feeds(
    http: httpx.Client, gql: GraphQLClient
) -> None:
    """Found in review: feedgenerator refuses C0 controls, which used to fail the whole feed."""
    marker = uuid.uuid4().hex[:8]
    incident = declare(gql, f"Bell\x07 and tab\x0b {marker}", visibility="PUBLIC")
    post_update(gql, incident["id"], f"Form\x0cfeed {marker}", "PUBLIC")
    for path in FEEDS:
        found = wait_for(lambda p=path: entries_titled(http, p, "Bell"))
        assert any(marker in e.title for e in found)
    # Without STATUS_PAGE_URL the links come from the request: caches must key by host.
    assert "Host" in http.get("/status/feed.atom").headers["vary"]
