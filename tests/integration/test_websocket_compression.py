"""permessage-deflate is negotiated with clients that offer it, unless WS_PER_MESSAGE_DEFLATE
turns it off; the status page works either way."""

from __future__ import annotations

import json
import uuid

from websockets.sync.client import connect

from tests.conftest import service_env
from tests.support.processes import ServiceProcess

PAGE = "subscription { statusPage { overallStatus } }"


def negotiated(ws_url: str) -> tuple[list[str], str]:
    """The extensions agreed with a client offering deflate, and the first page status."""
    with connect(ws_url, subprotocols=["graphql-transport-ws"], compression="deflate") as ws:  # type: ignore[list-item]
        ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": PAGE}}))
        first = json.loads(ws.recv(timeout=10))
        names = [type(e).__name__ for e in ws.protocol.extensions]
        return names, first["payload"]["data"]["statusPage"]["overallStatus"]


def test_compression_is_on_by_default(service: ServiceProcess) -> None:
    extensions, status = negotiated(service.ws_url)
    assert extensions == ["PerMessageDeflate"] and status


def test_compression_can_be_turned_off(mongo_uri: str) -> None:
    env = service_env(mongo_uri, f"deflate_{uuid.uuid4().hex[:8]}", WS_PER_MESSAGE_DEFLATE="false")
    proc = ServiceProcess(env).start()
    try:
        extensions, status = negotiated(proc.ws_url)
        assert extensions == [] and status
    finally:
        proc.stop()
