"""Websocket GraphQL clients for the realtime tests.

`WsClient` speaks either subprotocol over the `websockets` sync client.
`StalledClient` reads from its socket only when asked, with a tiny receive
buffer: a consumer that really stops reading (the `websockets` client keeps
draining the socket into memory in a background thread).
"""

from __future__ import annotations

import json
import socket
from typing import Any
from urllib.parse import urlparse

from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.sync.client import ClientConnection, connect
from websockets.uri import parse_uri

from tests.support.processes import ADMIN_KEY, GraphQLClient

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"
TIMEOUT = 60.0

EVENT_FIELDS = "id incidentId seq type visibility message"
INCIDENT_EVENTS = (
    "subscription($id: ID!, $after: Int) { incidentEvents(incidentId: $id, afterSeq: $after) { "
    + EVENT_FIELDS
    + " } }"
)
STATUS_PAGE_FIELDS = """overallStatus updatedAt
  components { name description status updatedAt }
  activeIncidents { key title publicStatus declaredAt updatedAt resolvedAt
    components { name status } updates { body publicStatus at } }"""


class Closed(Exception):
    def __init__(self, code: int | None, reason: str | None) -> None:
        super().__init__(f"closed {code} {reason!r}")
        self.code, self.reason = code, reason


class WsClient:
    """One GraphQL websocket connection (either subprotocol), acknowledged."""

    def __init__(
        self, ws_url: str, key: str | None = ADMIN_KEY, protocol: str = TRANSPORT_WS
    ) -> None:
        self.protocol = protocol
        # Entered at once and closed by close(): a connection that lives across calls.
        self.ws: ClientConnection = connect(
            ws_url,
            subprotocols=[protocol],  # type: ignore[list-item]
            open_timeout=TIMEOUT,
            max_size=None,
        ).__enter__()
        payload = {"authorization": f"Bearer {key}"} if key else {}
        self.ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        ack = self.recv()
        assert ack["type"] == "connection_ack", ack

    def subscribe(self, op_id: str, query: str, variables: dict[str, Any] | None = None) -> None:
        kind = "subscribe" if self.protocol == TRANSPORT_WS else "start"
        payload = {"query": query, "variables": variables or {}}
        self.ws.send(json.dumps({"type": kind, "id": op_id, "payload": payload}))

    def recv(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The next message that is not a keep-alive; Closed when the server closed."""
        while True:
            try:
                message = json.loads(self.ws.recv(timeout=timeout))
            except ConnectionClosed as exc:
                raise Closed(
                    exc.rcvd.code if exc.rcvd else None, exc.rcvd.reason if exc.rcvd else None
                ) from None
            if message.get("type") not in ("ka", "ping", "pong"):
                return message

    def next_data(self, op_id: str, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The data of the next result of `op_id` (fails on anything else)."""
        message = self.recv(timeout)
        assert message.get("id") == op_id, message
        assert message["type"] in ("next", "data"), message
        assert "errors" not in message["payload"], message
        return message["payload"]["data"]

    def close(self) -> None:
        self.ws.close()

    def __enter__(self) -> WsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class StalledClient:
    """A graphql-transport-ws client that reads only inside `recv`."""

    def __init__(self, ws_url: str, key: str = ADMIN_KEY, rcvbuf: int = 4096) -> None:
        url = urlparse(ws_url)
        host, port = url.hostname or "127.0.0.1", url.port or 80
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect((host, port))
        self.proto = ClientProtocol(parse_uri(ws_url), subprotocols=[TRANSPORT_WS], max_size=None)  # type: ignore[list-item]
        self.proto.send_request(self.proto.connect())
        self._flush()
        self.events: list[Any] = []
        while not any(isinstance(e, Response) for e in self.events):
            self._read()
        self.events = [e for e in self.events if not isinstance(e, Response)]
        self.send({"type": "connection_init", "payload": {"authorization": f"Bearer {key}"}})
        assert self.recv()["type"] == "connection_ack"

    def send(self, message: dict[str, Any]) -> None:
        self.proto.send_text(json.dumps(message).encode())
        self._flush()

    def recv(self) -> dict[str, Any]:
        while True:
            while self.events:
                event = self.events.pop(0)
                if isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                    return json.loads(event.data)
                if isinstance(event, Frame) and event.opcode is Opcode.CLOSE:
                    self._raise_closed()
            if not self._read():
                self._raise_closed()

    def close(self) -> None:
        self.sock.close()

    def _raise_closed(self) -> None:
        rcvd = self.proto.close_rcvd
        raise Closed(rcvd.code if rcvd else 1006, rcvd.reason if rcvd else "")

    def _read(self) -> bool:
        data = self.sock.recv(65536)
        if data:
            self.proto.receive_data(data)
        else:
            self.proto.receive_eof()
        self.events.extend(self.proto.events_received())
        self._flush()
        return bool(data)

    def _flush(self) -> None:
        for chunk in self.proto.data_to_send():
            if chunk:
                self.sock.sendall(chunk)


# Mutations used by the tests


def declare(gql: GraphQLClient, title: str, **fields: Any) -> dict[str, Any]:
    data = gql(
        """mutation($input: DeclareIncidentInput!) {
             declareIncident(input: $input) { incident { id key version } userErrors { message } }
           }""",
        {"input": {"title": title, **fields}},
    )
    assert data["declareIncident"]["userErrors"] == [], data
    return data["declareIncident"]["incident"]


def add_note(gql: GraphQLClient, incident_id: str, body: str) -> None:
    data = gql(
        """mutation($id: ID!, $body: String!) {
             addNote(input: {id: $id, body: $body}) { userErrors { message } } }""",
        {"id": incident_id, "body": body},
    )
    assert data["addNote"]["userErrors"] == [], data


def post_update(gql: GraphQLClient, incident_id: str, body: str, visibility: str) -> None:
    data = gql(
        """mutation($id: ID!, $body: String!, $v: Visibility!) {
             postUpdate(input: {id: $id, body: $body, visibility: $v}) {
               userErrors { message } } }""",
        {"id": incident_id, "body": body, "v": visibility},
    )
    assert data["postUpdate"]["userErrors"] == [], data


def create_service(gql: GraphQLClient, name: str) -> str:
    data = gql(
        """mutation($name: String!) {
             createService(input: {name: $name}) { service { id } userErrors { message } } }""",
        {"name": name},
    )
    assert data["createService"]["userErrors"] == [], data
    return data["createService"]["service"]["id"]


def set_service_status(gql: GraphQLClient, service_id: str, status: str) -> None:
    data = gql(
        """mutation($id: ID!, $status: ComponentStatus!) {
             setServiceStatus(input: {id: $id, status: $status}) { userErrors { message } } }""",
        {"id": service_id, "status": status},
    )
    assert data["setServiceStatus"]["userErrors"] == [], data


def prime(client: WsClient, op_id: str, action: Any, wait: float = 5.0) -> list[Any]:
    """Repeat `action` until `op_id` delivers once; return what each call returned.

    A subscription without replay is registered asynchronously after the
    subscribe message, so a test cannot know when it is live; a first delivery
    proves it is. The caller must expect more deliveries from the later calls.
    """
    results = []
    while True:
        results.append(action())
        try:
            message = client.recv(timeout=wait)
        except TimeoutError:
            continue
        assert message.get("id") == op_id and message["type"] in ("next", "data"), message
        assert "errors" not in message["payload"], message
        return results
