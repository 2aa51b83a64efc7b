"""Atom 1.0 and RSS 2.0 feeds of the public status page's updates.

One entry per public incident update (unresolved and recently resolved
incidents) and per update of a published maintenance window, newest first.
Entries are built from the public `StatusPage` model only (pure functions
below) and written with `feedgenerator`, which does the XML escaping. Their
ids are `urn:uuid:` names derived from the page id and the update's own
stable id, so a reader never sees an update twice, whatever address it used.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any

import feedgenerator
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from incident_service.domain.enums import MaintenanceStatus
from incident_service.domain.status_page import PublicIncident, PublicMaintenance, StatusPage
from incident_service.web.documents import Documents
from incident_service.web.links import Site
from incident_service.web.statuspage_json import timestamp, update_ids

ATOM_PATH = "/status/feed.atom"
RSS_PATH = "/status/feed.rss"
#: Feed readers poll rarely; a minute of shared caching costs them nothing.
MAX_AGE = 60
MAX_ENTRIES = 100


@dataclass(frozen=True)
class Entry:
    """One update as a feed entry."""

    id: str
    title: str
    link: str
    #: HTML (escaped text): what the entry says.
    content: str
    at: datetime


def entry_id(site: Site, kind: str, update_id: str) -> str:
    """Stable across requests, hosts and replicas: a name-based UUID."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"incident-service:{site.id}:{kind}:{update_id}").urn


def _paragraphs(*texts: str | None) -> str:
    return "".join(f"<p>{escape(t).replace(chr(10), '<br>')}</p>" for t in texts if t)


def _label(value: str) -> str:
    return value.replace("_", " ").capitalize()


def incident_entries(site: Site, p: PublicIncident) -> Iterator[Entry]:
    affected = ", ".join(c.name for c in p.components)
    for u in p.updates:
        yield Entry(
            id=entry_id(site, "incident-update", u.id),
            title=f"{p.title}: {_label(u.public_status.value)}",
            link=site.incident_url(p.key),
            content=_paragraphs(u.body, f"Affected: {affected}" if affected else None),
            at=u.at,
        )


def maintenance_entries(site: Site, m: PublicMaintenance) -> Iterator[Entry]:
    window = f"Window: {timestamp(m.starts_at)} to {timestamp(m.ends_at)}"
    affected = ", ".join(c.name for c in m.components)
    for update_id, u in zip(update_ids(m), m.updates, strict=True):
        yield Entry(
            id=entry_id(site, "maintenance-update", update_id),
            title=f"{m.title}: {_label(u.status.value)}",
            link=site.url,
            content=_paragraphs(
                u.body,
                # The description belongs with the announcement.
                m.description if u.status is MaintenanceStatus.SCHEDULED else None,
                window,
                f"Affected: {affected}" if affected else None,
            ),
            at=u.at,
        )


def entries(site: Site, page: StatusPage) -> list[Entry]:
    """Every public update on the page, newest first, at most MAX_ENTRIES.

    Cancelled windows are included here (unlike the JSON API): a reader told
    about a window should hear that it will not happen.
    """
    incidents = (*page.active_incidents, *page.recent_incidents)
    windows = (*page.maintenances, *page.past_maintenances)
    found = [e for p in incidents for e in incident_entries(site, p)]
    found += [e for m in windows for e in maintenance_entries(site, m)]
    found.sort(key=lambda e: (e.at, e.id), reverse=True)
    return found[:MAX_ENTRIES]


#: Characters XML 1.0 cannot carry at all (C0 controls but tab, newline, return).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def xml_text(text: str) -> str:
    """Text an XML document can hold: a control character a user typed becomes a space
    (feedgenerator refuses them, which would fail the whole feed)."""
    return _NOT_XML.sub(" ", text)


def _feed(kind: Any, site: Site, page: StatusPage, feed_url: str) -> bytes:
    feed = kind(
        title=site.name,
        link=site.url,
        description=f"Incident and maintenance updates from {site.name}",
        language="en",
        author_name=site.name,
        feed_url=feed_url,
        feed_guid=uuid.uuid5(uuid.NAMESPACE_URL, f"incident-service:{site.id}:feed").urn,
    )
    # feedgenerator stamps a feed without entries with the current time; the
    # page's own time keeps an unchanged feed byte-for-byte the same (and so its ETag).
    feed.latest_post_date = lambda: page.updated_at
    for e in entries(site, page):
        feed.add_item(
            title=xml_text(e.title),
            link=e.link,
            description=xml_text(e.content),
            pubdate=e.at,
            updateddate=e.at,
            unique_id=e.id,
            unique_id_is_permalink=False,
        )
    text: str = feed.writeString("utf-8")
    return text.encode()


def atom(site: Site, page: StatusPage) -> bytes:
    return _feed(feedgenerator.Atom1Feed, site, page, site.url + "/feed.atom")


def rss(site: Site, page: StatusPage) -> bytes:
    return _feed(feedgenerator.Rss201rev2Feed, site, page, site.url + "/feed.rss")


FEEDS: dict[str, tuple[Callable[[Site, StatusPage], bytes], str]] = {
    ATOM_PATH: (atom, "application/atom+xml; charset=utf-8"),
    RSS_PATH: (rss, "application/rss+xml; charset=utf-8"),
}


def unavailable() -> Response:
    return PlainTextResponse(
        "the status page cannot be read right now",
        status_code=503,
        headers={"retry-after": "5", "cache-control": "no-store"},
    )


def feed_routes(documents: Documents) -> list[BaseRoute]:
    def endpoint(path: str) -> Callable[[Request], Awaitable[Response]]:
        render, media_type = FEEDS[path]

        async def serve(request: Request) -> Response:
            return await documents.respond(
                request,
                path,
                render,
                media_type=media_type,
                max_age=MAX_AGE,
                unavailable=unavailable,
            )

        return serve

    return [Route(path, endpoint(path), methods=["GET"]) for path in FEEDS]
