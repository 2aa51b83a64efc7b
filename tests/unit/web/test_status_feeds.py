"""Feed entries from the public page: one per public update, newest first, stable ids."""

from __future__ import annotations

from dataclasses import replace

import feedparser

from incident_service.domain.enums import MaintenanceStatus, PublicStatus
from incident_service.domain.status_page import PublicUpdate
from incident_service.web import status_feeds
from incident_service.web.links import Site
from tests.unit.helpers import at
from tests.unit.web.pages import SITE, incident, page, window


def test_one_entry_per_update_newest_first() -> None:
    shown = page(
        active_incidents=(incident("INC-12", declared=5),),
        maintenances=(window("m1"),),
        past_maintenances=(window("m2", MaintenanceStatus.CANCELLED, starts=3),),
    )
    entries = status_feeds.entries(SITE, shown)
    assert [(e.title, e.at) for e in entries[:3]] == [
        ("INC-12 checkout errors: Identified", at(15)),
        ("INC-12 checkout errors: Investigating", at(6)),
        ("DB upgrade m2: Cancelled", at(3)),
    ]
    # Two announcements at the same time: both there, in a stable (id) order.
    assert {e.title for e in entries[3:]} == {
        "DB upgrade m1: Scheduled",
        "DB upgrade m2: Scheduled",
    }
    assert entries[3].id > entries[4].id
    assert entries[0].link == "https://status.example.com/incidents/INC-12"
    assert entries[2].link == SITE.url


def test_ids_are_stable_urns_that_do_not_depend_on_the_address() -> None:
    shown = page(active_incidents=(incident(),))
    other_host = Site(SITE.id, SITE.name, "http://10.0.0.1:8000/status")
    ids = [e.id for e in status_feeds.entries(SITE, shown)]
    assert ids == [e.id for e in status_feeds.entries(other_host, shown)]
    assert all(i.startswith("urn:uuid:") for i in ids)
    assert len(set(ids)) == len(ids)


def test_bodies_are_text_not_markup() -> None:
    script = PublicUpdate("INC-12-9", "<script>alert(1)</script>", PublicStatus.IDENTIFIED, at(9))
    evil = replace(incident(), updates=(script,))
    (entry,) = status_feeds.entries(SITE, page(active_incidents=(evil,)))
    assert "<script>" not in entry.content
    assert "&lt;script&gt;" in entry.content


def test_a_scheduled_window_entry_carries_its_description_and_times() -> None:
    (entry,) = status_feeds.entries(SITE, page(maintenances=(window(),)))
    assert "Postgres 17" in entry.content
    assert "2026-01-01T14:00:00.000Z" in entry.content
    assert "Affected: Docs" in entry.content


def test_at_most_max_entries() -> None:
    many = tuple(incident(f"INC-{n}", declared=n) for n in range(80))
    assert len(status_feeds.entries(SITE, page(active_incidents=many))) == status_feeds.MAX_ENTRIES


def test_both_feeds_parse_and_an_unchanged_page_gives_the_same_bytes() -> None:
    shown = page(active_incidents=(incident(),), maintenances=(window(),))
    for render in (status_feeds.atom, status_feeds.rss):
        body = render(SITE, shown)
        assert body == render(SITE, shown)
        parsed = feedparser.parse(body)
        assert not parsed.bozo, parsed.bozo_exception
        assert [e.id for e in parsed.entries] == [e.id for e in status_feeds.entries(SITE, shown)]


def test_an_empty_feed_is_dated_by_the_page_not_by_the_clock() -> None:
    empty = page()
    assert status_feeds.atom(SITE, empty) == status_feeds.atom(SITE, empty)
    parsed = feedparser.parse(status_feeds.atom(SITE, empty))
    assert parsed.feed.updated.startswith("2026-01-01T12:30:00")
