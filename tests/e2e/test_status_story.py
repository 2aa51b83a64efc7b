"""The public status page tells an incident's story, live, as a new user would play it.

A public "Payments" component and an internal one; an incident holds both in
a major outage and gets a public update and internal notes; the page shows
the outage, the banner and the update, and nothing internal; resolving it
brings the component back by itself and moves the incident to the past
incidents. Screenshots of each moment, on a desktop and on a phone, go to
tests/e2e/artifacts/.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import service_env
from tests.e2e.helpers import (
    component_row,
    never_reloaded,
    open_live,
    open_status_page,
    screenshot,
)
from tests.support.api import (
    CANCEL_MAINTENANCE,
    COMPLETE_MAINTENANCE,
    SCHEDULE_MAINTENANCE,
    TRANSITION,
    add_note,
    create_service,
    declare,
    ok,
    post_update,
)
from tests.support.processes import GraphQLClient, ServiceProcess

HISTORY_DAYS = 7
UPTIME_DAYS = 90


@pytest.fixture
def own_service(mongo_uri: str, tmp_path: Path) -> Iterator[ServiceProcess]:
    """A service on a database of its own: nothing else moves its banner."""
    env = service_env(
        mongo_uri,
        f"story_{uuid.uuid4().hex[:8]}",
        STATUS_PAGE_HISTORY_DAYS=str(HISTORY_DAYS),
        STATUS_PAGE_TITLE="Acme status",
    )
    process = ServiceProcess(env, log_path=tmp_path / "service.log").start()
    try:
        yield process
    finally:
        process.stop()


def banner(page: Any) -> Any:
    return page.locator("#overall-text")


def test_an_incident_from_outage_to_resolved_on_the_public_page(
    page: Any, phone: Any, own_service: ServiceProcess, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    gql = GraphQLClient(own_service.url)
    marker = uuid.uuid4().hex[:6]
    payments = create_service(
        gql, f"Payments {marker}", description="Card and wallet payments", group="Checkout"
    )
    create_service(gql, f"Storefront {marker}", description="Browsing and search")
    create_service(gql, f"Webhooks {marker}", group="Developer platform")
    internal_name = f"Ledger {marker}"
    ledger = create_service(gql, internal_name, public=False)

    frames = open_status_page(page, own_service)
    phone_frames = open_status_page(phone, own_service)
    row = component_row(page, f"Payments {marker}")
    expect(row).to_have_attribute("data-status", "OPERATIONAL")
    expect(banner(page)).to_have_text("All systems operational")
    # Grouped: ungrouped components first, then each group under its heading.
    expect(page.locator(".component-group__name")).to_have_text(["Checkout", "Developer platform"])
    expect(page.locator("#components > ul.components .component__name")).to_have_text(
        [f"Storefront {marker}"]
    )
    expect(page.locator("#history .history-day__none")).to_have_count(HISTORY_DAYS)

    title = f"Card payments are failing ({marker})"
    incident = declare(
        gql,
        title,
        componentImpacts=[
            {"serviceId": payments, "status": "MAJOR_OUTAGE"},
            {"serviceId": ledger, "status": "MAJOR_OUTAGE"},
        ],
    )
    internal_note = f"INTERNAL ONLY {marker}: the ledger primary is out of disk"
    add_note(gql, incident["id"], internal_note)
    internal_update = f"INTERNAL UPDATE {marker}: paging the database team"
    post_update(gql, incident["id"], internal_update, "INTERNAL")
    public = f"We are investigating failed card payments ({marker})."
    post_update(gql, incident["id"], public, "PUBLIC")

    # Live, without a reload: the component, the banner, the incident and its update.
    for view in (page, phone):
        card = view.locator(f'article.incident[data-incident="{incident["key"]}"]')
        expect(card.locator(".update__body")).to_have_text([public])
        expect(card.locator(".incident__title")).to_have_text(title)
        expect(card.locator(".phase")).to_have_text("Investigating")
        expect(card.locator(".affected__item")).to_have_text([f"Payments {marker} — Major outage"])
        expect(component_row(view, f"Payments {marker}")).to_have_attribute(
            "data-status", "MAJOR_OUTAGE"
        )
        expect(banner(view)).to_have_text("Major system outage")
    expect(row.locator(".status-label")).to_have_text("Major outage")
    expect(page.locator("#overall")).to_have_attribute("data-status", "MAJOR_OUTAGE")
    expect(page.locator(".component-group[data-group=Checkout] .status-label").first).to_have_text(
        "Major outage"
    )
    # Today's bar of the uptime shows the outage, in words too.
    today = row.locator(".uptime__day").last
    expect(today).to_have_attribute("data-status", "MAJOR_OUTAGE")
    expect(today).to_have_attribute("title", re.compile(r": Major outage, .* of downtime$"))
    # The card links to the incident's own page.
    href = card.locator(".incident__title a").get_attribute("href")
    assert href == f"status/incidents/{incident['key']}"

    # Nothing internal anywhere: not in the page text, not in a frame it received.
    for view, received in ((page, frames), (phone, phone_frames)):
        text = view.inner_text("body")
        for secret in (internal_name, internal_note, internal_update):
            assert secret not in text
            assert not [f for f in received if secret in f], f"{secret!r} reached the browser"
    screenshot(page, artifacts, "status-desktop-1-during")
    screenshot(phone, artifacts, "status-phone-1-during")
    page.emulate_media(color_scheme="dark")
    screenshot(page, artifacts, "status-desktop-1-during-dark")
    page.emulate_media(color_scheme="light")

    ok(
        gql,
        TRANSITION,
        id=incident["id"],
        to="RESOLVED",
        publicUpdate="Resolved: payments work again",
    )

    # The component recovers by itself; the incident moves to the past incidents.
    for view in (page, phone):
        expect(component_row(view, f"Payments {marker}")).to_have_attribute(
            "data-status", "OPERATIONAL"
        )
        expect(banner(view)).to_have_text("All systems operational")
        expect(view.locator("#incidents-section")).to_be_hidden()
        past = view.locator(f'#history li.past[data-incident="{incident["key"]}"]')
        expect(past.locator(".past__title")).to_have_text(title)
        expect(past.locator(".past__update")).to_have_text("Resolved: payments work again")
        expect(past.locator(".past__resolved")).to_have_text("Resolved")
        expect(past.locator(".past__meta time")).to_have_attribute(
            "datetime", re.compile(r"^\d{4}-\d\d-\d\dT")
        )
        assert never_reloaded(view), "the page was reloaded"
    expect(row.locator(".status-label")).to_have_text("Operational")
    # Newest day first, every day of the window; the incident is under today.
    days = page.locator("#history .history-day")
    expect(days).to_have_count(HISTORY_DAYS)
    expect(days.first.locator("li.past")).to_have_count(1)
    expect(page.locator("#history .history-day__none")).to_have_count(HISTORY_DAYS - 1)
    keys = days.evaluate_all("(nodes) => nodes.map((n) => n.dataset.day)")
    assert keys == sorted(keys, reverse=True)
    screenshot(page, artifacts, "status-desktop-2-after")
    screenshot(phone, artifacts, "status-phone-2-after")

    # Its link opens its own page, with the whole public story.
    page.locator(f'#history li.past[data-incident="{incident["key"]}"] .past__title a').click()
    expect(page).to_have_url(f"{own_service.url}/status/incidents/{incident['key']}")
    expect(page.locator("#incident .update__body")).to_have_text(
        ["Resolved: payments work again", public]
    )


def test_uptime_bars_show_ninety_days_in_colour_and_in_words(
    page: Any, service: ServiceProcess, gql: GraphQLClient
) -> None:
    from playwright.sync_api import expect

    name = f"Search {uuid.uuid4().hex[:8]}"
    create_service(gql, name)
    open_status_page(page, service)
    row = component_row(page, name)
    bars = row.locator(".uptime__day")
    expect(bars).to_have_count(UPTIME_DAYS)
    expect(row.locator(".uptime__percent")).to_have_text("100% uptime")
    expect(row.locator(".uptime__legend")).to_contain_text(f"{UPTIME_DAYS} days ago")
    # Created today: every earlier day has no data, drawn as such and said in words.
    statuses = bars.evaluate_all("(nodes) => nodes.map((n) => n.dataset.status)")
    assert statuses == ["NO_DATA"] * (UPTIME_DAYS - 1) + ["OPERATIONAL"]
    titles = bars.evaluate_all("(nodes) => nodes.map((n) => n.title)")
    assert all(t.endswith(": no data") for t in titles[:-1]) and titles[-1].endswith(
        ": No downtime"
    )
    expect(bars.last.locator(".sr-only")).to_have_text(titles[-1])
    # Every bar is drawn, side by side, on one line.
    boxes = bars.evaluate_all(
        "(nodes) => nodes.map((n) => { const r = n.getBoundingClientRect();"
        " return [r.left, r.top, r.width, r.height]; })"
    )
    assert all(w >= 2 and h >= 8 for _, _, w, h in boxes)
    assert len({round(top + h / 2) for _, top, _, h in boxes}) == 1
    assert [left for left, *_ in boxes] == sorted(left for left, *_ in boxes)
    # "No data" is a shape of its own (a low stub), not only another colour.
    assert boxes[-1][3] > 2 * boxes[0][3]
    # A finger has no hover: tapping a bar says what its day was.
    bars.last.click()
    expect(row.locator(".uptime__caption")).to_have_text(titles[-1])


def test_the_incident_page_is_live_and_tells_nothing_about_internal_incidents(
    page: Any,
    phone: Any,
    service: ServiceProcess,
    gql: GraphQLClient,
    artifacts: Path,
) -> None:
    from playwright.sync_api import expect

    marker = uuid.uuid4().hex[:6]
    api = create_service(gql, f"Public API {marker}")
    title = f"Elevated API error rates ({marker})"
    incident = declare(
        gql,
        title,
        visibility="PUBLIC",
        componentImpacts=[{"serviceId": api, "status": "PARTIAL_OUTAGE"}],
    )
    url = f"{service.url}/status/incidents/{incident['key']}"

    frames = open_live(page, url)
    open_live(phone, url)
    article = page.locator("#incident")
    expect(article.locator(".incident__title")).to_have_text(title)
    expect(article.locator(".phase")).to_have_text("Investigating")
    expect(article.locator(".affected__item")).to_have_text(
        [f"Public API {marker} — Partial outage"]
    )
    expect(article.locator(".updates__none")).to_be_visible()
    expect(page).to_have_title(re.compile(re.escape(title)))

    first = f"Some API requests fail with 503 ({marker})."
    post_update(gql, incident["id"], first, "PUBLIC")
    internal = f"INTERNAL ONLY {marker}: a bad deploy of the gateway"
    post_update(gql, incident["id"], internal, "INTERNAL")
    ok(
        gql,
        TRANSITION,
        id=incident["id"],
        to="IDENTIFIED",
        publicUpdate=f"We found the cause and are rolling back ({marker}).",
    )
    for view in (page, phone):
        expect(view.locator("#incident .update__body")).to_have_text(
            [f"We found the cause and are rolling back ({marker}).", first]
        )
        expect(view.locator("#incident .phase")).to_have_text("Identified")
        expect(view.locator("#incident .update__status")).to_have_text(
            ["Identified", "Investigating"]
        )
        expect(view.locator("#incident .update__time time")).to_have_count(2)
        assert never_reloaded(view), "the page was reloaded"
    assert internal not in page.inner_text("body")
    assert not [f for f in frames if internal in f]
    screenshot(page, artifacts, "incident-desktop")
    screenshot(phone, artifacts, "incident-phone")

    # An internal incident's key answers exactly like a key that does not exist.
    hidden = declare(gql, f"Internal only ({marker})")
    unknown = "INC-987654321"
    answers = {
        key: httpx.get(f"{service.url}/status/incidents/{key}", timeout=30)
        for key in (hidden["key"], unknown, hidden["key"].lower())
    }
    assert {r.status_code for r in answers.values()} == {404}
    assert len({r.content for r in answers.values()}) == 1
    varying = {"date", "x-request-id"}
    assert (
        len(
            {
                tuple(sorted((k, v) for k, v in r.headers.items() if k not in varying))
                for r in answers.values()
            }
        )
        == 1
    )
    assert f"Internal only ({marker})" not in answers[hidden["key"]].text
    page.goto(f"{service.url}/status/incidents/{hidden['key']}")
    expect(page.locator("h1")).to_have_text("Page not found")
    screenshot(page, artifacts, "incident-not-found")


def test_scheduled_and_running_maintenance_show_and_leave_live(
    page: Any, service: ServiceProcess, gql: GraphQLClient, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    marker = uuid.uuid4().hex[:6]
    database = create_service(gql, f"Database {marker}")
    now = datetime.now(UTC)
    later = ok(
        gql,
        SCHEDULE_MAINTENANCE,
        title=f"Database upgrade ({marker})",
        description="Read-only for up to 30 minutes.",
        serviceIds=[database],
        startsAt=(now + timedelta(days=1)).isoformat(),
        endsAt=(now + timedelta(days=1, hours=2)).isoformat(),
    )
    open_status_page(page, service)
    scheduled = page.locator(f'article.maintenance[data-maintenance="{later["id"]}"]')
    running = None
    try:
        expect(scheduled.locator(".incident__title")).to_have_text(f"Database upgrade ({marker})")
        expect(scheduled.locator(".phase")).to_have_text("Scheduled")
        expect(scheduled.locator(".maintenance__description")).to_have_text(
            "Read-only for up to 30 minutes."
        )
        # Not under maintenance yet: the window names the component, claims no status.
        expect(scheduled.locator(".affected__item")).to_have_text([f"Database {marker}"])
        row = component_row(page, f"Database {marker}")
        expect(row).to_have_attribute("data-status", "OPERATIONAL")

        running = ok(
            gql,
            SCHEDULE_MAINTENANCE,
            title=f"Failover drill ({marker})",
            serviceIds=[database],
            startsAt=now.isoformat(),
            endsAt=(now + timedelta(hours=1)).isoformat(),
        )
        card = page.locator(f'article.maintenance[data-maintenance="{running["id"]}"]')
        expect(card.locator(".phase")).to_have_text("In progress")
        expect(card.locator(".affected__item")).to_have_text(
            [f"Database {marker} — Under maintenance"]
        )
        expect(row).to_have_attribute("data-status", "UNDER_MAINTENANCE")
        expect(row.locator(".status-label")).to_have_text("Under maintenance")
        screenshot(page, artifacts, "status-desktop-maintenance")

        ok(gql, COMPLETE_MAINTENANCE, id=running["id"])
        running = None
        expect(card).to_have_count(0)
        expect(row).to_have_attribute("data-status", "OPERATIONAL")
        assert never_reloaded(page), "the page was reloaded"
    finally:
        # The session's service is shared: leave no window behind.
        if running is not None:
            ok(gql, COMPLETE_MAINTENANCE, id=running["id"])
        ok(gql, CANCEL_MAINTENANCE, id=later["id"])
