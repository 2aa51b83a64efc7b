"""SIGTERM drains: not ready at once, websockets closed with 1001, in-flight requests finish."""

from __future__ import annotations

import json
import signal
import socket
import uuid
from pathlib import Path

import httpx

from tests.conftest import service_env
from tests.support.api import STATUS_PAGE
from tests.support.processes import ADMIN_KEY, ServiceProcess
from tests.support.websocket import WsClient

GRACE = 30


def _start_request(port: int, body: bytes, sent: int) -> socket.socket:
    """An HTTP request of which only the head and `sent` body bytes are sent yet."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    head = (
        "POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {ADMIN_KEY}\r\n"
        "Content-Type: application/json\r\nAccept: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    sock.sendall(head.encode() + body[:sent])
    return sock


def _read_response(sock: socket.socket) -> tuple[int, dict]:
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, rest = data.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status, json.loads(rest)


def test_sigterm_drains_then_exits_zero(mongo_uri: str, tmp_path: Path) -> None:
    proc = ServiceProcess(
        service_env(
            mongo_uri,
            f"test_drain_{uuid.uuid4().hex[:8]}",
            SHUTDOWN_GRACE_SECONDS=str(GRACE),
        ),
        log_path=tmp_path / "service.log",
    ).start()
    assert proc.process is not None
    try:
        subscriber = WsClient.initialised(proc.ws_url, key=None)
        subscriber.subscribe("s", STATUS_PAGE)
        assert "overallStatus" in subscriber.next_data("s")["statusPage"]

        body = json.dumps({"query": "{ statusPage { overallStatus } }"}).encode()
        in_flight = _start_request(proc.port, body, sent=len(body) // 2)
        # A full round trip after it: the server has read the half request by now.
        assert httpx.get(f"{proc.url}/healthz", timeout=30).status_code == 200

        proc.signal(signal.SIGTERM)

        closed = subscriber.closed()
        assert (closed.code, closed.reason) == (1001, "server shutting down")

        # Not ready any more: 503 while draining, or nobody listening at all.
        try:
            ready = httpx.get(f"{proc.url}/readyz", timeout=30)
            assert ready.status_code == 503, ready.text
            assert ready.json()["checks"]["draining"] is True
        except httpx.TransportError:
            pass

        # The request that was in flight when the signal came still completes.
        in_flight.sendall(body[len(body) // 2 :])
        status, answer = _read_response(in_flight)
        in_flight.close()
        assert status == 200 and "errors" not in answer, answer
        assert answer["data"]["statusPage"]["overallStatus"] == "OPERATIONAL"

        assert proc.process.wait(timeout=GRACE) == 0, proc.log()
    finally:
        proc.stop()
