"""Links from an incident to runbooks, tickets and evidence; notes written after the fact."""

from __future__ import annotations

from datetime import timedelta

import pytest

from incident_service.domain import external_links as links
from incident_service.domain import incident as domain
from incident_service.domain.errors import DomainError
from incident_service.domain.external_links import ExternalLinkKind as Kind
from tests.unit.helpers import ACTOR, at, declared


def test_a_link_is_added_once_and_removed() -> None:
    url = "https://tickets.example.com/SEC-1"
    added = links.add_link(declared(), "l1", url, "SEC-1", Kind.TICKET, now=at(1), actor=ACTOR)
    [link] = added.incident.external_links
    assert (link.url, link.title, link.kind, link.added_by) == (url, "SEC-1", Kind.TICKET, ACTOR)
    assert [e.type for e in added.events] == ["LINK_ADDED"]
    again = links.add_link(added.incident, "l2", url, None, Kind.TICKET, now=at(2), actor=ACTOR)
    assert again.events == () and len(again.incident.external_links) == 1
    removed = links.remove_link(added.incident, "l1", now=at(3), actor=ACTOR)
    assert removed.incident.external_links == ()
    assert [e.type for e in removed.events] == ["LINK_REMOVED"]


def test_a_link_without_a_title_is_named_by_its_url() -> None:
    change = links.add_link(
        declared(), "l1", "https://grafana.example.com/d/x", " ", Kind.DASHBOARD,
        now=at(1), actor=ACTOR,
    )  # fmt: skip
    assert change.incident.external_links[0].title == "https://grafana.example.com/d/x"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "file:///etc/passwd",
        "data:text/html,<script>",
        "ftp://example.com/x",
        "https://",
        "//example.com/x",
        "https://exa mple.com",
        "https://example.com/\x00",
        "https://example.com/" + "a" * 2048,
        "http://[::1",
    ],
)
def test_only_http_urls_with_a_host_are_accepted(url: str) -> None:
    with pytest.raises(DomainError) as refused:
        links.add_link(declared(), "l1", url, None, Kind.OTHER, now=at(1), actor=ACTOR)
    assert refused.value.field == ("input", "url")


def test_removing_an_unknown_link_names_the_id() -> None:
    with pytest.raises(DomainError) as refused:
        links.remove_link(declared(), "nope", now=at(1), actor=ACTOR)
    assert refused.value.field == ("input", "id")


def test_a_note_may_record_when_something_happened_earlier() -> None:
    incident = declared()  # detected and declared at at(0)
    change = domain.add_note(
        incident, "Backups were last verified", now=at(30), actor=ACTOR, occurred_at=at(-60)
    )
    [event] = change.events
    assert (event.at, event.occurred_at) == (at(30), at(-60))
    plain = domain.add_note(incident, "Now", now=at(30), actor=ACTOR)
    assert plain.events[0].occurred_at is None


def test_a_note_cannot_come_from_the_future_or_too_far_back() -> None:
    incident = declared()
    for occurred in (at(31), at(0) - timedelta(hours=24, minutes=1)):
        with pytest.raises(DomainError) as refused:
            domain.add_note(incident, "x", now=at(30), actor=ACTOR, occurred_at=occurred)
        assert refused.value.field == ("input", "occurredAt")
    wider = domain.add_note(
        incident, "x", now=at(30), actor=ACTOR,
        occurred_at=at(0) - timedelta(hours=47), backdate_window=timedelta(hours=48),
    )  # fmt: skip
    assert wider.events[0].occurred_at == at(0) - timedelta(hours=47)
