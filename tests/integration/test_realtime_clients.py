"""Subscriptions from clients nobody here wrote, over both subprotocols; access rules."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport

from tests.support.api import INCIDENT_EVENTS, add_note, declare
from tests.support.processes import ADMIN_KEY, GraphQLClient, ServiceProcess
from tests.support.websocket import LEGACY_WS, TRANSPORT_WS, WsClient, message_errors

TIMEOUT = 60


async def _collect_with_gql(
    ws_url: str, subprotocol: str, incident_id: str, count: int, on_first: Any
) -> list[dict]:
    transport = WebsocketsTransport(
        url=ws_url,
        subprotocols=[subprotocol],
        init_payload={"authorization": f"Bearer {ADMIN_KEY}"},
    )
    got: list[dict] = []
    async with Client(transport=transport, fetch_schema_from_transport=False) as session:
        subscription = session.subscribe(
            GraphQLRequest(INCIDENT_EVENTS, variable_values={"id": incident_id, "after": 0})
        )
        async for result in subscription:
            got.append(result["incidentEvents"])
            if len(got) == 1:
                # Live from here: write the rest from another thread.
                threading.Thread(target=on_first).start()
            if len(got) == count:
                break
    return got


@pytest.mark.parametrize("subprotocol", [TRANSPORT_WS, LEGACY_WS])
def test_python_gql_client_subscribes(
    service: ServiceProcess, gql: GraphQLClient, subprotocol: str
) -> None:
    incident = declare(gql, f"gql over {subprotocol}")

    def write() -> None:
        for n in range(3):
            add_note(gql, incident["id"], f"via gql {n}")

    got = asyncio.run(
        asyncio.wait_for(
            _collect_with_gql(service.ws_url, subprotocol, incident["id"], 4, write), TIMEOUT
        )
    )
    assert [e["seq"] for e in got] == [1, 2, 3, 4]
    assert [e["message"] for e in got[1:]] == [f"via gql {n}" for n in range(3)]


async def _gql_error(ws_url: str, subprotocol: str, query: str, variables: dict) -> Any:
    transport = WebsocketsTransport(url=ws_url, subprotocols=[subprotocol], init_payload={})
    async with Client(transport=transport, fetch_schema_from_transport=False) as session:
        with pytest.raises(TransportQueryError) as caught:
            async for _ in session.subscribe(GraphQLRequest(query, variable_values=variables)):
                pass
    return caught.value.errors


@pytest.mark.parametrize("subprotocol", [TRANSPORT_WS, LEGACY_WS])
@pytest.mark.parametrize(
    "query",
    [
        INCIDENT_EVENTS,
        "subscription { incidentChanged { id title rootCause } }",
    ],
    ids=["incidentEvents", "incidentChanged"],
)
def test_anonymous_cannot_subscribe_to_internal_streams(
    service: ServiceProcess, gql: GraphQLClient, subprotocol: str, query: str
) -> None:
    incident = declare(gql, "Internal only")
    errors = asyncio.run(
        asyncio.wait_for(
            _gql_error(service.ws_url, subprotocol, query, {"id": incident["id"]}), TIMEOUT
        )
    )
    assert errors and errors[0]["extensions"]["code"] == "UNAUTHENTICATED", errors


@pytest.mark.parametrize("subprotocol", [TRANSPORT_WS, LEGACY_WS])
def test_raw_websocket_both_subprotocols(
    service: ServiceProcess, gql: GraphQLClient, subprotocol: str
) -> None:
    incident = declare(gql, f"raw {subprotocol}")
    with WsClient.initialised(service.ws_url, subprotocol=subprotocol) as client:
        client.subscribe("1", INCIDENT_EVENTS, {"id": incident["id"]})
        assert client.next_data("1")["incidentEvents"]["type"] == "DECLARED"
        add_note(gql, incident["id"], "hello")
        event = client.next_data("1")["incidentEvents"]
        assert (event["seq"], event["message"]) == (2, "hello")


def test_unknown_incident_and_bad_after_seq_are_clear_errors(
    service: ServiceProcess, gql: GraphQLClient
) -> None:
    incident = declare(gql, "errors")
    with WsClient.initialised(service.ws_url) as client:
        cases = {
            "missing": ({"id": "0" * 24}, "NOT_FOUND"),
            "malformed": ({"id": "nope"}, "VALIDATION"),
            "negative": ({"id": incident["id"], "after": -1}, "VALIDATION"),
        }
        for op_id, (variables, code) in cases.items():
            client.subscribe(op_id, INCIDENT_EVENTS, variables)
            message = client.recv()
            assert message["id"] == op_id and message["type"] in ("error", "next"), message
            errors = message_errors(message)
            assert errors[0]["extensions"]["code"] == code, errors
