"""The public status page, as query and subscription: public data only, live."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from tests.support.api import (
    STATUS_PAGE,
    STATUS_PAGE_FIELDS,
    TRANSITION,
    add_note,
    create_service,
    declare,
    ok,
    post_update,
    set_service_status,
)
from tests.support.processes import GraphQLClient, ServiceProcess
from tests.support.websocket import LEGACY_WS, TRANSPORT_WS, WsClient


def _until(client: WsClient, op_id: str, done) -> list[dict]:  # type: ignore[no-untyped-def]
    """Pages received until `done(page)`; every one of them is returned."""
    pages = []
    while True:
        page = client.next_data(op_id)["statusPage"]
        pages.append(page)
        if done(page):
            return pages


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
def test_anonymous_status_page_is_live_and_never_shows_internal_data(
    service: ServiceProcess, gql: GraphQLClient, protocol: str
) -> None:
    secret = f"SECRET-{uuid.uuid4().hex}"
    name = f"api-{uuid.uuid4().hex[:8]}"
    service_id = create_service(gql, name)
    incident = declare(
        gql,
        f"Checkout errors {name}",
        serviceIds=[service_id],
        labels=[secret],
        description=secret,
    )
    with WsClient.initialised(service.ws_url, key=None, subprotocol=protocol) as anonymous:
        anonymous.subscribe("s", STATUS_PAGE)
        first = anonymous.next_data("s")["statusPage"]
        assert name in [c["name"] for c in first["components"]]
        # Not public yet: the incident is not on the page.
        assert incident["key"] not in [i["key"] for i in first["activeIncidents"]]

        add_note(gql, incident["id"], f"internal note {secret}")
        post_update(gql, incident["id"], f"internal update {secret}", "INTERNAL")
        post_update(gql, incident["id"], "We are looking into checkout errors", "PUBLIC")
        post_update(gql, incident["id"], f"another internal update {secret}", "INTERNAL")
        set_service_status(gql, service_id, "MAJOR_OUTAGE")

        def done(page: dict) -> bool:
            mine = [c for c in page["components"] if c["name"] == name]
            return bool(mine) and mine[0]["status"] == "MAJOR_OUTAGE"

        pages = [first, *_until(anonymous, "s", done)]
        last = pages[-1]
        assert last["overallStatus"] == "MAJOR_OUTAGE"
        mine = [i for i in last["activeIncidents"] if i["key"] == incident["key"]]
        assert len(mine) == 1
        assert [u["body"] for u in mine[0]["updates"]] == ["We are looking into checkout errors"]
        assert mine[0]["publicStatus"] == "INVESTIGATING"
        assert [c["name"] for c in mine[0]["components"]] == [name]
        # Nothing internal in anything this subscriber ever received.
        assert secret not in json.dumps(pages)

    # The query gives the same public view, to anonymous callers too.
    body = httpx.post(
        f"{service.url}/graphql", json={"query": "{ statusPage { " + STATUS_PAGE_FIELDS + " } }"}
    ).json()
    assert "errors" not in body, body
    assert secret not in json.dumps(body)
    queried = [
        i for i in body["data"]["statusPage"]["activeIncidents"] if i["key"] == incident["key"]
    ]
    assert [u["body"] for u in queried[0]["updates"]] == ["We are looking into checkout errors"]


@pytest.mark.parametrize(
    "selection",
    [
        "activeIncidents { labels }",
        "activeIncidents { rootCause }",
        "activeIncidents { id roles { user } }",
        "activeIncidents { updates { visibility actor } }",
        "components { id }",
    ],
)
def test_internal_fields_cannot_be_selected_through_the_public_types(
    service: ServiceProcess, selection: str
) -> None:
    with WsClient.initialised(service.ws_url, key=None) as anonymous:
        anonymous.subscribe("s", "subscription { statusPage { " + selection + " } }")
        message = anonymous.recv()
        assert message["type"] == "error", message
        assert "Cannot query field" in message["payload"][0]["message"]


def test_resolved_incident_leaves_the_page(service: ServiceProcess, gql: GraphQLClient) -> None:
    incident = declare(gql, "Short blip", visibility="PUBLIC")
    with WsClient.initialised(service.ws_url, key=None) as anonymous:
        anonymous.subscribe("s", STATUS_PAGE)
        _until(
            anonymous,
            "s",
            lambda p: incident["key"] in [i["key"] for i in p["activeIncidents"]],
        )
        ok(gql, TRANSITION, id=incident["id"], to="RESOLVED")
        _until(
            anonymous,
            "s",
            lambda p: incident["key"] not in [i["key"] for i in p["activeIncidents"]],
        )
