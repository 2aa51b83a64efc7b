"""GraphQL over websockets, for tests: either subprotocol, well-behaved or hostile.

`WsClient` speaks `graphql-transport-ws` or the legacy `graphql-ws` over the
`websockets` sync client, and can send any frame at all. `StalledClient`
reads from its socket only when asked, with a tiny receive buffer: a consumer
that really stops reading (the `websockets` client keeps draining the socket
into memory in a background thread, so it never looks slow to the server).
"""

from __future__ import annotations

import json
import socket
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, Self
from urllib.parse import urlparse

from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed
from websockets.frames import Close, Frame, Opcode
from websockets.http11 import Response
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

from tests.support.polling import wait_for
from tests.support.processes import ADMIN_KEY

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"
TIMEOUT = 60.0
#: Messages that only keep an idle connection open (legacy "ka", transport ping/pong).
KEEP_ALIVES = ("ka", "ping", "pong")

Message = dict[str, Any]


class Closed(Exception):
    """The server closed the connection: its close code and reason (None: no close frame)."""

    def __init__(self, code: int | None, reason: str | None) -> None:
        super().__init__(f"closed {code} {reason!r}")
        self.code, self.reason = code, reason

    @classmethod
    def of(cls, frame: Close | None) -> Closed:
        return cls(frame.code if frame else None, frame.reason if frame else None)


class _GraphQLMessages(ABC):
    """The messages of the protocol, over whatever transport a client has."""

    subprotocol: str

    @abstractmethod
    def _send_raw(self, frame: str | bytes) -> None: ...

    @abstractmethod
    def recv(self, timeout: float = TIMEOUT) -> Message: ...

    def send(self, message: Message | str | bytes) -> None:
        """A message as JSON; a str or bytes goes as it is (text or binary frame)."""
        self._send_raw(json.dumps(message) if isinstance(message, dict) else message)

    def init(self, key: str | None = None) -> Self:
        """connection_init, with the key as a bearer token when given; expects the ack."""
        payload = {"authorization": f"Bearer {key}"} if key else {}
        self.send({"type": "connection_init", "payload": payload})
        ack = self.recv()
        assert ack["type"] == "connection_ack", ack
        return self

    def subscribe(self, op_id: str, query: str, variables: dict[str, Any] | None = None) -> None:
        kind = "subscribe" if self.subprotocol == TRANSPORT_WS else "start"
        payload = {"query": query, "variables": variables or {}}
        self.send({"id": op_id, "type": kind, "payload": payload})


class WsClient(_GraphQLMessages):
    """One GraphQL websocket connection, open until close() (or the end of a with block).

    Not initialised: call init(key), or build it with WsClient.initialised(...).
    `connect_kw` goes to websockets' connect (max_size, additional_headers, ...).
    """

    def __init__(self, ws_url: str, subprotocol: str = TRANSPORT_WS, **connect_kw: Any) -> None:
        self.subprotocol = subprotocol
        options: dict[str, Any] = {"open_timeout": TIMEOUT, "max_size": None, **connect_kw}
        # Entered at once (websockets warns about a connection used outside a
        # with block) and left by close(): the connection lives across calls.
        self.conn: ClientConnection = connect(
            ws_url, subprotocols=[Subprotocol(subprotocol)], **options
        ).__enter__()

    @classmethod
    def initialised(
        cls, ws_url: str, key: str | None = ADMIN_KEY, subprotocol: str = TRANSPORT_WS
    ) -> WsClient:
        """Connected and acknowledged (as the admin unless told otherwise)."""
        client = cls(ws_url, subprotocol)
        try:
            return client.init(key)
        except BaseException:
            client.close()
            raise

    def _send_raw(self, frame: str | bytes) -> None:
        self.conn.send(frame)

    def recv(self, timeout: float = TIMEOUT) -> Message:
        """The next message that is not a keep-alive; Closed when the server closed."""
        while True:
            try:
                message: Message = json.loads(self.conn.recv(timeout=timeout))
            except ConnectionClosed as exc:
                raise Closed.of(exc.rcvd) from None
            if message.get("type") not in KEEP_ALIVES:
                return message

    def next_data(self, op_id: str, timeout: float = TIMEOUT) -> Any:
        """The data of the next result of `op_id` (fails on anything else)."""
        message = self.recv(timeout)
        assert message.get("id") == op_id, message
        assert message["type"] in ("next", "data"), message
        assert "errors" not in message["payload"], message
        return message["payload"]["data"]

    def recv_poking(self, poke: Callable[[], object], wait: float, timeout: float) -> Message:
        """The next message, calling `poke()` each time none came within `wait` seconds.

        A subscription without replay is registered asynchronously after the
        subscribe message, so a test cannot know when it is live: it makes
        something happen until a first result shows that it is.
        """

        def arrived() -> Message | None:
            try:
                return self.recv(timeout=wait)
            except TimeoutError:
                poke()
                return None

        return wait_for(arrived, timeout, interval=0, message="no message, however often poked")

    def complete(self, op_id: str) -> None:
        """Stop one subscription ("complete" here, "stop" in the legacy protocol)."""
        self.send({"id": op_id, "type": "complete" if self.subprotocol == TRANSPORT_WS else "stop"})

    def closed(self, timeout: float = TIMEOUT) -> Closed:
        """Read (and drop) whatever comes until the server closes; how it closed."""
        try:
            while True:
                self.conn.recv(timeout=timeout)
        except ConnectionClosed as exc:
            return Closed.of(exc.rcvd)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> WsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def message_errors(message: Message) -> list[dict[str, Any]]:
    """The GraphQL errors of a websocket result message, in either subprotocol."""
    payload: Any = message.get("payload")
    if message["type"] == "error":
        # graphql-transport-ws sends a list, the legacy graphql-ws one error.
        return payload if isinstance(payload, list) else [payload]
    return list((payload or {}).get("errors") or [])


def prime(client: WsClient, op_id: str, action: Callable[[], Any], wait: float = 5.0) -> list[Any]:
    """Repeat `action` until `op_id` delivers once; return what each call returned.

    The caller must expect more deliveries from the later calls.
    """
    results = [action()]
    message = client.recv_poking(lambda: results.append(action()), wait, timeout=120)
    assert message.get("id") == op_id and message["type"] in ("next", "data"), message
    assert "errors" not in message["payload"], message
    return results


class StalledClient(_GraphQLMessages):
    """A graphql-transport-ws client, initialised, that reads only inside `recv`."""

    subprotocol = TRANSPORT_WS

    def __init__(self, ws_url: str, key: str = ADMIN_KEY, rcvbuf: int = 4096) -> None:
        url = urlparse(ws_url)
        host, port = url.hostname or "127.0.0.1", url.port or 80
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect((host, port))
        self.proto = ClientProtocol(
            parse_uri(ws_url), subprotocols=[Subprotocol(TRANSPORT_WS)], max_size=None
        )
        self.proto.send_request(self.proto.connect())
        self._flush()
        self.events: list[Any] = []
        while not any(isinstance(e, Response) for e in self.events):
            self._read()
        self.events = [e for e in self.events if not isinstance(e, Response)]
        self.init(key)

    def _send_raw(self, frame: str | bytes) -> None:
        if isinstance(frame, str):
            self.proto.send_text(frame.encode())
        else:
            self.proto.send_binary(frame)
        self._flush()

    def recv(self, timeout: float = TIMEOUT) -> Message:
        """The next text message, read off the socket only now; Closed when closed."""
        self.sock.settimeout(timeout)
        while True:
            while self.events:
                event = self.events.pop(0)
                if isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                    message: Message = json.loads(bytes(event.data))
                    return message
                if isinstance(event, Frame) and event.opcode is Opcode.CLOSE:
                    raise Closed.of(self.proto.close_rcvd)
            if not self._read():
                raise Closed.of(self.proto.close_rcvd)

    def close(self) -> None:
        self.sock.close()

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
