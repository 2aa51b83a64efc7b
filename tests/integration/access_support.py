"""Helpers for the access-control, limits and hostile-input tests: keys, websockets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.support.processes import ADMIN_KEY, GraphQLClient

CREATE_KEY = """mutation($input: CreateApiKeyInput!) {
  createApiKey(input: $input) {
    secret
    apiKey { id name role prefix createdAt createdBy lastUsedAt revokedAt revokedBy }
    userErrors { field code message }
  }
}"""
REVOKE_KEY = """mutation($id: ID!) {
  revokeApiKey(input: {id: $id}) { apiKey { id revokedAt revokedBy } userErrors { code } }
}"""
LIST_KEYS = """query($all: Boolean!) {
  apiKeys(includeRevoked: $all) { id name role prefix lastUsedAt revokedAt }
}"""

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"


def create_key(gql: GraphQLClient, name: str, role: str) -> tuple[str, dict[str, Any]]:
    data = gql(CREATE_KEY, {"input": {"name": name, "role": role}}, key=ADMIN_KEY)
    payload = data["createApiKey"]
    assert payload["userErrors"] == [], payload
    return payload["secret"], payload["apiKey"]


def error_codes(body: dict[str, Any]) -> list[str | None]:
    return [(e.get("extensions") or {}).get("code") for e in body.get("errors") or []]


@contextmanager
def ws(url: str, subprotocol: str = TRANSPORT_WS, **kw: Any) -> Iterator[ClientConnection]:
    with connect(url, subprotocols=[subprotocol], open_timeout=30, **kw) as conn:  # type: ignore[list-item]
        yield conn


def send(conn: ClientConnection, message: dict[str, Any]) -> None:
    conn.send(json.dumps(message))


def recv(conn: ClientConnection, timeout: float = 30.0) -> dict[str, Any]:
    """Next message that is not a keep-alive."""
    while True:
        message = json.loads(conn.recv(timeout=timeout))
        if message.get("type") not in ("ka", "ping", "pong"):
            return message


def init(conn: ClientConnection, key: str | None, subprotocol: str = TRANSPORT_WS) -> None:
    payload = {"authorization": f"Bearer {key}"} if key else {}
    send(conn, {"type": "connection_init", "payload": payload})
    ack = recv(conn)
    assert ack["type"] == "connection_ack", ack


def subscribe(
    conn: ClientConnection,
    query: str,
    variables: dict[str, Any] | None = None,
    op_id: str = "1",
    subprotocol: str = TRANSPORT_WS,
) -> None:
    kind = "subscribe" if subprotocol == TRANSPORT_WS else "start"
    send(
        conn,
        {"id": op_id, "type": kind, "payload": {"query": query, "variables": variables or {}}},
    )


def close_code(conn: ClientConnection, timeout: float = 30.0) -> int | None:
    """Read until the server closes; the close code it sent."""
    try:
        while True:
            conn.recv(timeout=timeout)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


def message_errors(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The GraphQL errors of a websocket result message, in either subprotocol."""
    payload = message.get("payload")
    if message["type"] == "error":
        # graphql-transport-ws sends a list, the legacy graphql-ws one error.
        return payload if isinstance(payload, list) else [payload]
    return list((payload or {}).get("errors") or [])
