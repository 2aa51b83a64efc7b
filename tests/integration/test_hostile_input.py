"""Hostile transport input gets a clear 4xx or protocol close code, and others keep being served."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.support.api import error_codes
from tests.support.processes import ADMIN_KEY, GraphQLClient, ServiceProcess
from tests.support.websocket import LEGACY_WS, TRANSPORT_WS, WsClient

STATUS = {"query": "{ statusPage { overallStatus } }"}


@pytest.fixture
def watcher(service: ServiceProcess, gql: GraphQLClient) -> Iterator[WsClient]:
    """A well-behaved subscriber that must keep working while others misbehave."""
    with WsClient.initialised(service.ws_url, key=ADMIN_KEY) as conn:
        conn.subscribe("1", "subscription { statusPage { overallStatus updatedAt } }")
        assert conn.recv()["type"] == "next"
        yield conn


def still_serving(service: ServiceProcess, gql: GraphQLClient, watcher: WsClient) -> None:
    assert httpx.get(f"{service.url}/healthz", timeout=30).status_code == 200
    assert gql("{ me { role } }")["me"]["role"] == "ADMIN"
    watcher.conn.ping().wait(30)
    with WsClient.initialised(service.ws_url, key=None) as conn:
        conn.subscribe("1", STATUS["query"].replace("{ statusPage", "subscription { statusPage"))
        assert conn.recv()["type"] == "next"


def post_raw(service: ServiceProcess, body: bytes, content_type: str) -> httpx.Response:
    # GraphQL over HTTP's own media type: a request error answers 4xx.
    headers = {"content-type": content_type, "accept": "application/graphql-response+json"}
    return httpx.post(f"{service.url}/graphql", content=body, headers=headers, timeout=60)


HTTP_CASES: dict[str, tuple[bytes, str, int, str]] = {
    # name: (body, content type, status, code)
    "malformed JSON": (
        b'{"query": "{ statusPage { overallStatus } }"',
        "application/json",
        400,
        "BAD_REQUEST",
    ),
    "not UTF-8": (b'{"query": "\xff\xfe"}', "application/json", 400, "BAD_REQUEST"),
    "empty body": (b"", "application/json", 400, "BAD_REQUEST"),
    "JSON scalar": (b"42", "application/json", 400, "BAD_REQUEST"),
    "batch": (json.dumps([STATUS, STATUS]).encode(), "application/json", 400, "BAD_REQUEST"),
    "text/plain": (json.dumps(STATUS).encode(), "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE"),
    "form": (
        b"query=%7B__typename%7D",
        "application/x-www-form-urlencoded",
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    ),
    "query is a number": (b'{"query": 42}', "application/json", 400, "BAD_REQUEST"),
    "query is a list": (b'{"query": ["{ __typename }"]}', "application/json", 400, "BAD_REQUEST"),
    "query is an object": (b'{"query": {"a": 1}}', "application/json", 400, "BAD_REQUEST"),
    "no query": (b'{"variables": {}}', "application/json", 400, "BAD_REQUEST"),
    "variables a string": (
        b'{"query": "{ __typename }", "variables": "x"}',
        "application/json",
        400,
        "BAD_REQUEST",
    ),
    "operationName a number": (
        b'{"query": "{ __typename }", "operationName": 1}',
        "application/json",
        400,
        "BAD_REQUEST",
    ),
    "JSON nested 100,000 deep": (
        b'{"query": "{ __typename }", "variables": {"a": '
        + b"[" * 100_000
        + b"]" * 100_000
        + b"}}",
        "application/json",
        400,
        "BAD_REQUEST",
    ),
    "query nested 1,000 deep": (
        json.dumps({"query": "{" + " a {" * 1000 + " b" + " }" * 1001}).encode(),
        "application/json",
        400,
        "GRAPHQL_PARSE_FAILED",
    ),
    "input object nested 1,000 deep": (
        json.dumps(
            {
                "query": "{ incidents(filter: "
                + "{a: " * 1000
                + "1"
                + "}" * 1000
                + ") { totalCount } }"
            }
        ).encode(),
        "application/json",
        400,
        "GRAPHQL_PARSE_FAILED",
    ),
    "alias bomb": (
        json.dumps(
            {"query": "{ " + " ".join(f"a{i}: __typename" for i in range(600)) + " }"}
        ).encode(),
        "application/json",
        400,
        "TOO_MANY_ALIASES",
    ),
    "token bomb": (
        json.dumps({"query": "{ " + "__typename " * 5000 + "}"}).encode(),
        "application/json",
        400,
        "TOO_MANY_TOKENS",
    ),
    "fragment cycle": (
        json.dumps(
            {"query": "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }"}
        ).encode(),
        "application/json",
        400,
        "GRAPHQL_VALIDATION_FAILED",
    ),
    "10 MB of variables": (
        json.dumps({"query": "{ __typename }", "variables": {"v": "x" * 10_000_000}}).encode(),
        "application/json",
        413,
        "REQUEST_TOO_LARGE",
    ),
}


@pytest.mark.parametrize("case", list(HTTP_CASES))
def test_hostile_http_body(
    case: str, service: ServiceProcess, gql: GraphQLClient, watcher: WsClient
) -> None:
    body, content_type, status, code = HTTP_CASES[case]
    response = post_raw(service, body, content_type)
    assert response.status_code == status, response.text[:500]
    payload = response.json()
    assert "data" not in payload
    assert set(error_codes(payload)) == {code}, payload
    assert all(e["message"] and "Traceback" not in e["message"] for e in payload["errors"])
    still_serving(service, gql, watcher)


def test_deep_json_in_get_variables(service: ServiceProcess) -> None:
    response = httpx.get(
        f"{service.url}/graphql",
        params={"query": "{ __typename }", "variables": "[" * 3000 + "]" * 3000},
        headers={"accept": "application/json"},
        timeout=30,
    )
    assert response.status_code == 400
    assert error_codes(response.json()) == ["BAD_REQUEST"]


def test_10_mb_of_variables_sent_chunked(service: ServiceProcess) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"query": "{ __typename }", "variables": {"v": "'
        for _ in range(100):
            yield b"x" * 100_000
        yield b'"}}'

    response = httpx.post(
        f"{service.url}/graphql",
        content=chunks(),
        headers={"content-type": "application/json"},
        timeout=60,
    )
    assert response.status_code == 413
    assert error_codes(response.json()) == ["REQUEST_TOO_LARGE"]


# --- websockets ------------------------------------------------------------------------


def test_subscribe_before_connection_init(
    service: ServiceProcess, gql: GraphQLClient, watcher: WsClient
) -> None:
    with WsClient(service.ws_url) as conn:
        conn.subscribe("1", "subscription { statusPage { overallStatus } }")
        assert conn.closed().code == 4401
    still_serving(service, gql, watcher)


GARBAGE_FRAMES: dict[str, str | bytes] = {
    "not JSON": "this is not json {",
    "JSON array": "[1, 2, 3]",
    "JSON string": '"connection_init"',
    "unknown type": '{"type": "hello"}',
    "type not a string": '{"type": 5}',
    "subscribe without id": '{"type": "subscribe", "payload": {"query": "{ __typename }"}}',
    "payload not an object": '{"id": "1", "type": "subscribe", "payload": "x"}',
    "query not a string": '{"id": "1", "type": "subscribe", "payload": {"query": 5}}',
    "binary frame": b"\x00\xff\x00\xff garbage",
}


#: What the legacy protocol passes over (its handler ignores frames it cannot use).
LEGACY_IGNORES = {"not JSON", "unknown type", "subscribe without id"}


@pytest.mark.parametrize("subprotocol", [TRANSPORT_WS, LEGACY_WS])
@pytest.mark.parametrize("case", list(GARBAGE_FRAMES))
def test_garbage_websocket_frames(
    case: str, subprotocol: str, service: ServiceProcess, gql: GraphQLClient, watcher: WsClient
) -> None:
    with WsClient.initialised(service.ws_url, key=None, subprotocol=subprotocol) as conn:
        conn.send(GARBAGE_FRAMES[case])
        if subprotocol == LEGACY_WS and case in LEGACY_IGNORES:
            conn.subscribe("1", "subscription { statusPage { overallStatus } }")
            assert conn.recv()["type"] == "data"
        else:
            code = conn.closed().code
            assert code is not None and 4400 <= code < 4500, code
    still_serving(service, gql, watcher)


def test_garbage_before_init_and_on_the_legacy_protocol(
    service: ServiceProcess, gql: GraphQLClient, watcher: WsClient
) -> None:
    with WsClient(service.ws_url) as conn:
        conn.send("garbage")
        code = conn.closed().code
        assert code is not None and 4400 <= code < 4500, code
    # The legacy protocol ignores frames that are not JSON and goes on serving ...
    with WsClient.initialised(service.ws_url, key=None, subprotocol=LEGACY_WS) as conn:
        conn.send("garbage {")
        conn.subscribe("1", "subscription { statusPage { overallStatus } }")
        assert conn.recv()["type"] == "data"
    # ... but closes on JSON of the wrong shape.
    for frame in ("[1]", '{"type": 5}', '{"id": "1", "type": "start", "payload": {"query": 1}}'):
        with WsClient.initialised(service.ws_url, key=None, subprotocol=LEGACY_WS) as conn:
            conn.send(frame)
            assert conn.closed().code == 4400, frame
    still_serving(service, gql, watcher)


def test_connection_init_twice_and_bad_payload(
    service: ServiceProcess, gql: GraphQLClient, watcher: WsClient
) -> None:
    with WsClient.initialised(service.ws_url, key=None) as conn:
        conn.send({"type": "connection_init"})
        assert conn.closed().code == 4429
    with WsClient(service.ws_url) as conn:
        conn.send({"type": "connection_init", "payload": "not an object"})
        assert conn.closed().code == 4400
    with WsClient(service.ws_url) as conn:
        conn.send({"type": "connection_init", "payload": {"authorization": 12}})
        assert conn.closed().code == 4403
    still_serving(service, gql, watcher)


def test_oversized_websocket_frame(
    service: ServiceProcess, gql: GraphQLClient, watcher: WsClient
) -> None:
    with WsClient.initialised(service.ws_url, key=None) as conn:
        conn.send({"type": "ping", "payload": {"pad": "x" * 2_000_000}})
        assert conn.closed().code == 1009
    still_serving(service, gql, watcher)


def test_unknown_subprotocol_is_refused(service: ServiceProcess) -> None:
    with WsClient(service.ws_url, "graphql-nonsense") as conn:
        assert conn.closed().code is not None
