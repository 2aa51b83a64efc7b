"""The server-rendered HTML of the built-in pages: everything escaped, templates filled once."""

from __future__ import annotations

from datetime import UTC, datetime

from incident_service.domain.enums import ComponentStatus, PublicStatus
from incident_service.domain.status_page import (
    PublicComponent,
    PublicIncident,
    PublicPostmortem,
    PublicUpdate,
)
from incident_service.web import pages

T0 = datetime(2026, 3, 12, 14, 5, tzinfo=UTC)
HOSTILE = '<script>alert("x")</script> & {{version}}'


def incident(**fields: object) -> PublicIncident:
    values: dict[str, object] = {
        "key": "INC-7",
        "title": "Payments are failing",
        "public_status": PublicStatus.INVESTIGATING,
        "components": (PublicComponent("s1", "Payments", None, ComponentStatus.MAJOR_OUTAGE, T0),),
        "updates": (
            PublicUpdate("INC-7-2", "We are looking into it.", PublicStatus.INVESTIGATING, T0),
        ),
        "declared_at": T0,
        "updated_at": T0,
        "resolved_at": None,
        **fields,
    }
    return PublicIncident(**values)  # type: ignore[arg-type]


def test_fill_escapes_values_and_never_expands_a_placeholder_inside_one() -> None:
    out = pages.fill("<h1>{{title}}</h1>{{raw_html}}", {"title": HOSTILE, "raw_html": "<b>ok</b>"})
    assert out == (
        "<h1>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; {{version}}</h1><b>ok</b>"
    )


def test_incident_page_shows_the_incident_and_escapes_every_value() -> None:
    hostile = incident(
        title=HOSTILE,
        components=(PublicComponent("s1", HOSTILE, None, ComponentStatus.MAJOR_OUTAGE, T0),),
        updates=(PublicUpdate("INC-7-2", HOSTILE, PublicStatus.INVESTIGATING, T0),),
    )
    html = pages.incident_page(HOSTILE, hostile)
    assert "<script>alert" not in html
    assert "{{" not in html.replace("&amp; {{version}}", "")
    # Site title, document title, description, heading, component (twice), update: all escaped.
    assert (
        html.count("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;") == html.count("alert(") == 8
    )
    assert 'data-page="incident"' in html and 'data-base="../../"' in html
    assert 'src="../../status/static/status.js?v=' in html


def test_incident_page_has_status_components_updates_and_times() -> None:
    html = pages.incident_page("Service status", incident())
    assert "<title>Payments are failing · Service status</title>" in html
    assert 'data-incident="INC-7"' in html
    assert '<span class="phase phase--investigating">Investigating</span>' in html
    assert "Payments — Major outage" in html
    assert "We are looking into it." in html
    assert '<time datetime="2026-03-12T14:05:00Z">2026-03-12 14:05 UTC</time>' in html
    assert "status--major" in html


def test_a_resolved_incident_reads_resolved() -> None:
    html = pages.incident_page(
        "Service status", incident(public_status=PublicStatus.RESOLVED, resolved_at=T0)
    )
    assert '<span class="phase phase--resolved">Resolved</span>' in html
    assert "Resolved <time" in html
    assert "status--operational" in html


def test_status_page_carries_the_history_window_and_escapes_the_title() -> None:
    html = pages.status_page(HOSTILE, 14)
    assert 'data-history-days="14"' in html and 'data-page="status"' in html
    assert "<script>alert" not in html
    assert 'src="status/static/status.js?v=' in html


def test_not_found_names_nothing_but_the_site() -> None:
    html = pages.not_found(HOSTILE)
    assert "Page not found" in html and "<script" not in html


def test_a_public_postmortem_is_shown_escaped_on_the_incident_page() -> None:
    reviewed = incident(
        public_status=PublicStatus.RESOLVED,
        resolved_at=T0,
        postmortem=PublicPostmortem(HOSTILE, "Payments failed for an hour", None, T0),
    )
    html = pages.incident_page("Service status", reviewed)
    assert '<section class="postmortem" aria-label="Postmortem">' in html
    assert (
        "Payments failed for an hour" in html
        and '<h4 class="postmortem__heading">Resolution' not in html
    )
    assert "<script>alert" not in html
    assert "postmortem" not in pages.incident_page("Service status", incident())
