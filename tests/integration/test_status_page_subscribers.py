"""Many status page subscribers on one process: every state once, in order, until they stop.

After its first page a graphql-transport-ws status page subscription is served
by the process's broadcast instead of a stream of its own
(api/subscriptions/broadcast.py); graphql-ws subscriptions stream through
Strawberry. Both kinds, side by side on one process, must see the same pages.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from tests.support.api import STATUS_PAGE, create_service, set_service_status
from tests.support.metrics import samples, value
from tests.support.polling import wait_for
from tests.support.processes import GraphQLClient, ServiceProcess
from tests.support.websocket import LEGACY_WS, WsClient

NAMES = "subscription Names { statusPage { components { name status } } }"
ACTIVE = "incident_service_subscriptions_active"


def _status(page: dict[str, Any], name: str) -> str:
    return next(c["status"] for c in page["components"] if c["name"] == name)


def _showing(name: str, status: str) -> Callable[[dict[str, Any]], bool]:
    return lambda page: _status(page, name) == status


def _read_until(
    client: WsClient, done: dict[str, Callable[[dict[str, Any]], bool]]
) -> dict[str, list[dict[str, Any]]]:
    """Pages by operation until the last of each satisfies its `done`; a message of any
    other operation, or with errors, fails."""
    pages: dict[str, list[dict[str, Any]]] = {op: [] for op in done}
    while not all(pages[op] and done[op](pages[op][-1]) for op in done):
        message = client.recv()
        assert message["type"] in ("next", "data"), message
        assert "errors" not in message["payload"], message
        assert message["id"] in pages, f"a page for {message['id']}, which was not asked for"
        # Every page carries its operation's cost, as any answer does (limits.md).
        cost = message["payload"]["extensions"]["cost"]
        assert cost["requested"] >= 1 and cost["limit"] >= cost["requested"], message
        pages[message["id"]].append(message["payload"]["data"]["statusPage"])
    return pages


def test_every_subscriber_gets_each_state_once_and_nothing_after_it_completes(
    service: ServiceProcess, gql: GraphQLClient
) -> None:
    name = f"broadcast-{uuid.uuid4().hex[:8]}"
    service_id = create_service(gql, name)
    active_before = value(samples(service.url), ACTIVE, subscription="statusPage")
    a = WsClient.initialised(service.ws_url, key=None)
    b = WsClient.initialised(service.ws_url, key=None)
    legacy = WsClient.initialised(service.ws_url, key=None, subprotocol=LEGACY_WS)
    subscribed = [(a, "full"), (a, "names"), (b, "full"), (legacy, "full")]
    try:
        for client, op in subscribed:
            client.subscribe(op, NAMES if op == "names" else STATUS_PAGE)
        listed: Callable[[dict[str, Any]], bool] = lambda page: any(  # noqa: E731
            c["name"] == name for c in page["components"]
        )
        for client in (a, b, legacy):
            ops = [op for c, op in subscribed if c is client]
            _read_until(client, dict.fromkeys(ops, listed))
        assert value(samples(service.url), ACTIVE, subscription="statusPage") == active_before + 4

        for status in ("DEGRADED_PERFORMANCE", "PARTIAL_OUTAGE", "MAJOR_OUTAGE"):
            set_service_status(gql, service_id, status)
            for client in (a, b, legacy):
                ops = [op for c, op in subscribed if c is client]
                got = _read_until(client, dict.fromkeys(ops, _showing(name, status)))
                # One change, one page: never the previous state again, never twice.
                assert {op: len(pages) for op, pages in got.items()} == dict.fromkeys(ops, 1)

        a.complete("names")
        set_service_status(gql, service_id, "OPERATIONAL")
        back = _showing(name, "OPERATIONAL")
        assert len(_read_until(a, {"full": back})["full"]) == 1
        assert len(_read_until(b, {"full": back})["full"]) == 1
        assert len(_read_until(legacy, {"full": back})["full"]) == 1
        wait_for(
            lambda: (
                value(samples(service.url), ACTIVE, subscription="statusPage") == active_before + 3
            ),
            timeout=30,
            interval=0.1,
        )

        # Its id is free again, and a new subscription starts from the current page.
        a.subscribe("names", NAMES)
        assert back(_read_until(a, {"names": back})["names"][0])
        set_service_status(gql, service_id, "UNDER_MAINTENANCE")
        got = _read_until(a, dict.fromkeys(("full", "names"), _showing(name, "UNDER_MAINTENANCE")))
        assert {op: len(pages) for op, pages in got.items()} == {"full": 1, "names": 1}
    finally:
        for client in (a, b, legacy):
            client.close()
    wait_for(
        lambda: value(samples(service.url), ACTIVE, subscription="statusPage") == active_before,
        timeout=30,
        interval=0.1,
    )
