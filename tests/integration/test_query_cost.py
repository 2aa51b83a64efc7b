"""MAX_QUERY_COST over HTTP and both websocket protocols: refused before it runs."""

from __future__ import annotations

import pytest

from tests.support.api import error_codes
from tests.support.processes import GraphQLClient, ServiceProcess
from tests.support.websocket import LEGACY_WS, TRANSPORT_WS, WsClient, message_errors

EVENTS = "timeline(first: 500) { edges { node { seq } } }"
PAGE = f"incidents(first: 100) {{ edges {{ node {{ id {EVENTS} }} }} }}"
#: The review's query: 30 aliases of a page of 100 incidents with 500 events each.
COSTLY = "query Costly { " + " ".join(f"a{n}: {PAGE}" for n in range(30)) + " }"


def test_a_costly_query_is_refused_before_it_runs(gql: GraphQLClient) -> None:
    response = gql.post(COSTLY)
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body and error_codes(body) == ["QUERY_TOO_COSTLY"]
    (error,) = body["errors"]
    assert error["extensions"]["cost"] == {"requested": 30 * 150_401, "limit": 100_000}
    assert "smaller pages" in error["message"]


def test_every_answer_reports_its_cost(gql: GraphQLClient) -> None:
    response = gql.post("query Small { incidents(first: 5) { edges { node { id } } } }")
    assert response.status_code == 200
    assert response.json()["extensions"]["cost"] == {"requested": 16, "limit": 100_000}


@pytest.mark.parametrize("subprotocol", [TRANSPORT_WS, LEGACY_WS])
def test_websocket_operations_meet_the_same_cost_limit(
    service: ServiceProcess, subprotocol: str
) -> None:
    # A subscription has one root field: the cost is in its page size.
    events = "timeline(first: 200000) { edges { node { seq } } }"
    costly = f"subscription Costly {{ incidentChanged {{ id {events} }} }}"
    with WsClient.initialised(service.ws_url, subprotocol=subprotocol) as client:
        client.subscribe("c", costly)
        message = client.recv()
    assert message["type"] == "error", message
    assert [e.get("extensions", {}).get("code") for e in message_errors(message)] == [
        "QUERY_TOO_COSTLY"
    ]
