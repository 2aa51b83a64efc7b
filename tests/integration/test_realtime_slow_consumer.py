"""A subscriber that stops reading is cut off with 4008; the others keep receiving."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.conftest import service_env
from tests.support.api import INCIDENT_EVENTS, add_note, declare
from tests.support.processes import GraphQLClient, ServiceProcess
from tests.support.websocket import Closed, StalledClient, WsClient

QUEUE_SIZE = 4
#: Subscriptions on the stalled connection: each event is sent that many times,
#: so the socket buffers fill after a few dozen events.
STALLED_SUBSCRIPTIONS = 16
#: Events of ~20 kB: 16 x 20 kB x 80 = ~26 MB, far beyond any socket buffers.
EVENTS = 80
BODY = "x" * 20_000


def test_stalled_subscriber_is_closed_with_4008_and_the_others_get_everything(
    mongo_uri: str, tmp_path: Path
) -> None:
    proc = ServiceProcess(
        service_env(
            mongo_uri,
            f"test_slow_{uuid.uuid4().hex[:8]}",
            SUBSCRIBER_QUEUE_SIZE=str(QUEUE_SIZE),
            WS_MAX_SUBSCRIPTIONS=str(STALLED_SUBSCRIPTIONS),
        ),
        log_path=tmp_path / "service.log",
    ).start()
    try:
        gql = GraphQLClient(proc.url)
        incident = declare(gql, "Slow consumer")
        stalled = StalledClient(proc.ws_url)
        for n in range(STALLED_SUBSCRIPTIONS):
            stalled.subscribe(str(n), INCIDENT_EVENTS, {"id": incident["id"]})
        # Each replays DECLARED: then all are registered. From now on it stops reading.
        for _ in range(STALLED_SUBSCRIPTIONS):
            assert stalled.recv()["type"] == "next"

        with WsClient.initialised(proc.ws_url) as normal:
            normal.subscribe("e", INCIDENT_EVENTS, {"id": incident["id"]})
            assert normal.next_data("e")["incidentEvents"]["seq"] == 1
            for n in range(EVENTS):
                add_note(gql, incident["id"], BODY)
                # Pace the writes by the normal subscriber, who keeps up.
                got = normal.next_data("e")["incidentEvents"]
                assert got["seq"] == n + 2 and got["message"] == BODY

        # The stalled client reads again: what was already in the socket, then
        # the close frame. Far fewer events than were written ever reach it.
        received = 0
        with pytest.raises(Closed) as closed:
            while True:
                stalled.recv()
                received += 1
        assert (closed.value.code, closed.value.reason) == (4008, "subscriber too slow")
        assert received < STALLED_SUBSCRIPTIONS * EVENTS
        stalled.close()

        # The process is healthy and still serves new subscribers.
        with WsClient.initialised(proc.ws_url) as again:
            again.subscribe("e", INCIDENT_EVENTS, {"id": incident["id"], "after": EVENTS + 1})
            add_note(gql, incident["id"], "after the cut")
            assert again.next_data("e")["incidentEvents"]["message"] == "after the cut"
    finally:
        proc.stop()
