"""Websocket protocol limits and the close codes docs/realtime.md documents."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import service_env
from tests.support.api import INCIDENT_EVENTS, declare
from tests.support.processes import ADMIN_KEY, GraphQLClient, ServiceProcess
from tests.support.websocket import WsClient

STATUS = "subscription { statusPage { overallStatus } }"


@pytest.fixture(scope="module")
def limited(mongo_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    proc = ServiceProcess(
        service_env(
            mongo_uri,
            f"test_limits_{uuid.uuid4().hex[:8]}",
            WS_CONNECTION_INIT_TIMEOUT="1",
            WS_MAX_SUBSCRIPTIONS="2",
        ),
        log_path=Path(tmp_path_factory.mktemp("limits")) / "service.log",
    ).start()
    try:
        yield proc
    finally:
        proc.stop()


def test_no_connection_init_is_closed_with_4408(limited: ServiceProcess) -> None:
    with WsClient(limited.ws_url) as client:
        closed = client.closed()
    assert (closed.code, closed.reason) == (4408, "Connection initialisation timeout")


def test_per_connection_subscription_limit(limited: ServiceProcess) -> None:
    with WsClient.initialised(limited.ws_url, key=None) as client:
        client.subscribe("a", STATUS)
        client.subscribe("b", STATUS)
        client.next_data("a"), client.next_data("b")
        client.subscribe("c", STATUS)
        message = client.recv()
        assert message["id"] == "c" and message["type"] == "error", message
        assert message["payload"][0]["message"] == "Subscription limit reached"
        # Completing one frees a slot.
        client.complete("a")
        client.subscribe("d", STATUS)
        assert "statusPage" in client.next_data("d")


@pytest.mark.parametrize(
    ("messages", "code"),
    [
        ([{"type": "connection_init", "payload": {"authorization": "Bearer wrong-key"}}], 4403),
        ([{"type": "connection_init"}, {"type": "connection_init"}], 4429),
        ([{"type": "subscribe", "id": "1", "payload": {"query": STATUS}}], 4401),
        ([{"type": "connection_init"}, {"type": "bogus"}], 4400),
        (
            [
                {"type": "connection_init"},
                {"type": "subscribe", "id": "1", "payload": {"query": STATUS}},
                {"type": "subscribe", "id": "1", "payload": {"query": STATUS}},
            ],
            4409,
        ),
    ],
    ids=["bad-key", "second-init", "subscribe-before-ack", "unknown-type", "duplicate-id"],
)
def test_protocol_violations_close_with_documented_codes(
    limited: ServiceProcess, messages: list[dict], code: int
) -> None:
    with WsClient(limited.ws_url) as client:
        for message in messages:
            client.send(message)
        assert client.closed().code == code


def test_valid_key_in_connection_init_is_accepted(limited: ServiceProcess) -> None:
    incident = declare(GraphQLClient(limited.url), "limits")
    with WsClient.initialised(limited.ws_url, key=ADMIN_KEY) as client:
        client.subscribe("e", INCIDENT_EVENTS, {"id": incident["id"]})
        assert client.next_data("e")["incidentEvents"]["seq"] == 1
