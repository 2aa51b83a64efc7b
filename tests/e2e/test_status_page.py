"""The built-in status page in a real browser: live updates without a reload, public only."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from tests.conftest import service_env
from tests.e2e.helpers import component_row, open_status_page
from tests.support.api import create_service, declare, post_update, set_service_status
from tests.support.processes import GraphQLClient, ServiceProcess


def test_component_status_change_shows_without_reload(
    page: Any, service: ServiceProcess, gql: GraphQLClient
) -> None:
    from playwright.sync_api import expect

    name = f"Checkout {uuid.uuid4().hex[:8]}"
    service_id = create_service(gql, name)

    open_status_page(page, service)
    row = component_row(page, name)
    expect(row).to_have_attribute("data-status", "OPERATIONAL")
    expect(row.locator(".status-label")).to_have_text("Operational")

    set_service_status(gql, service_id, "MAJOR_OUTAGE")

    expect(row).to_have_attribute("data-status", "MAJOR_OUTAGE", timeout=30_000)
    # A text label, not only a colour.
    expect(row.locator(".status-label")).to_have_text("Major outage")
    expect(page.locator("#overall")).to_have_attribute("data-status", "MAJOR_OUTAGE")
    expect(page.locator("#overall-text")).to_have_text("Major system outage")
    assert page.evaluate("window.__loadedOnce") is True, "the page was reloaded"


def test_public_update_appears_and_internal_never_does(
    page: Any, service: ServiceProcess, gql: GraphQLClient
) -> None:
    from playwright.sync_api import expect

    marker = uuid.uuid4().hex[:8]
    name = f"Search {marker}"
    service_id = create_service(gql, name)
    frames = open_status_page(page, service)

    title = f"Search is slow {marker}"
    incident = declare(gql, title, serviceIds=[service_id])
    internal = f"INTERNAL ONLY {marker}: the primary ran out of disk"
    public = f"We are investigating slow searches ({marker})."
    post_update(gql, incident["id"], internal)  # no visibility: internal by default
    post_update(gql, incident["id"], public, "PUBLIC")

    card = page.locator(f'article.incident[data-incident="{incident["key"]}"]')
    expect(card.locator(".update__body")).to_have_text([public], timeout=30_000)
    expect(card.locator(".incident__title")).to_have_text(title)
    expect(card.locator(".affected__item", has_text=name)).to_be_visible()
    # The public update arrived after the internal one was written: had the
    # internal one leaked, it would be on the page (or in a frame) by now.
    assert internal not in page.inner_text("body")
    assert not [f for f in frames if internal in f], "an INTERNAL update reached the browser"
    assert page.evaluate("window.__loadedOnce") is True, "the page was reloaded"


def test_reconnects_after_the_server_goes_away_and_shows_what_it_missed(
    page: Any,
    service: ServiceProcess,
    gql: GraphQLClient,
    mongo_uri: str,
    tmp_path: Path,
) -> None:
    """A replica restarts: the page says so, reconnects by itself and re-reads the state."""
    from playwright.sync_api import expect

    name = f"Billing {uuid.uuid4().hex[:8]}"
    service_id = create_service(gql, name)
    # A second replica on the same database as the session's service.
    env = service_env(mongo_uri, service.env["MONGODB_DATABASE"])
    replica = ServiceProcess(env, log_path=tmp_path / "replica.log").start()
    try:
        open_status_page(page, replica)
        row = component_row(page, name)
        expect(row).to_have_attribute("data-status", "OPERATIONAL")

        replica.stop()  # closes the websocket with 1001, like a pod going away
        expect(page.locator("html")).to_have_attribute("data-connection", "reconnecting")
        expect(page.locator("#connection")).to_contain_text("Reconnecting")
        expect(row).to_have_attribute("data-status", "OPERATIONAL")  # last known state stays

        # Changed while the page is disconnected: no live event can bring it.
        set_service_status(gql, service_id, "PARTIAL_OUTAGE")
        replica = ServiceProcess(env, port=replica.port, log_path=replica.log_path).start()
        expect(page.locator("html")).to_have_attribute("data-connection", "live", timeout=90_000)
        expect(row).to_have_attribute("data-status", "PARTIAL_OUTAGE")
        expect(row.locator(".status-label")).to_have_text("Partial outage")
        assert page.evaluate("window.__loadedOnce") is True, "the page was reloaded"
    finally:
        replica.stop()
