"""Subscriptions fed by the change stream: across processes, resumable, filtered."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.api import INCIDENT_EVENTS, TRANSITION, add_note, declare, ok
from tests.support.processes import GraphQLClient, ServiceProcess
from tests.support.websocket import WsClient, prime


@pytest.fixture(scope="module")
def second(
    service: ServiceProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    """Another replica: same database, its own change stream."""
    log = Path(tmp_path_factory.mktemp("second")) / "service.log"
    proc = ServiceProcess(dict(service.env), log_path=log).start()
    try:
        yield proc
    finally:
        proc.stop()


def test_mutations_on_one_replica_reach_a_subscriber_on_the_other_in_order(
    service: ServiceProcess, second: ServiceProcess, tag: str
) -> None:
    gql_b = GraphQLClient(second.url)
    incident = declare(gql_b, "Replica fan-out", labels=[tag])
    client = WsClient.initialised(service.ws_url)
    try:
        client.subscribe(
            "c",
            """subscription($f: IncidentFilter) {
                 incidentChanged(filter: $f) { id version labels } }""",
            {"f": {"label": tag}},
        )
        primes = prime(client, "c", lambda: add_note(gql_b, incident["id"], "prime"))
        # incidentEvents replays, so it needs no priming: afterSeq 1 skips DECLARED only.
        client.subscribe("e", INCIDENT_EVENTS, {"id": incident["id"], "after": 1})
        for n in range(10):
            add_note(gql_b, incident["id"], f"note {n}")
        last_seq = 1 + len(primes) + 10
        events: list[dict] = []
        states: list[dict] = []
        # (A new incident's version equals its last seq: one event per note.)
        while (
            not events
            or not states
            or events[-1]["seq"] < last_seq
            or states[-1]["version"] < last_seq
        ):
            message = client.recv()
            assert message["type"] == "next" and "errors" not in message["payload"], message
            data = message["payload"]["data"]
            if message["id"] == "e":
                events.append(data["incidentEvents"])
            else:
                states.append(data["incidentChanged"])
        assert [e["seq"] for e in events] == list(range(2, last_seq + 1))
        assert [e["message"] for e in events[-10:]] == [f"note {n}" for n in range(10)]
        assert all(e["incidentId"] == incident["id"] for e in events)
        # incidentChanged: new states in version order, ending at the latest one.
        versions = [s["version"] for s in states]
        assert versions == sorted(set(versions)) and versions[-1] == last_seq
        assert all(s["labels"] == [tag] and s["id"] == incident["id"] for s in states)
    finally:
        client.close()


def test_resume_with_after_seq_gets_exactly_the_missed_events_then_live_ones(
    service: ServiceProcess, second: ServiceProcess, gql: GraphQLClient
) -> None:
    incident = declare(gql, "Resume me")
    client = WsClient.initialised(service.ws_url)
    client.subscribe("e", INCIDENT_EVENTS, {"id": incident["id"]})
    first = client.next_data("e")["incidentEvents"]
    assert first["seq"] == 1 and first["type"] == "DECLARED"
    client.close()

    gql_b = GraphQLClient(second.url)
    for n in range(20):
        add_note(gql_b, incident["id"], f"missed {n}")

    client = WsClient.initialised(service.ws_url)
    try:
        client.subscribe("e", INCIDENT_EVENTS, {"id": incident["id"], "after": first["seq"]})
        replayed = [client.next_data("e")["incidentEvents"] for _ in range(20)]
        assert [e["seq"] for e in replayed] == list(range(2, 22))
        assert [e["message"] for e in replayed] == [f"missed {n}" for n in range(20)]
        for n in range(3):
            add_note(gql_b, incident["id"], f"live {n}")
        live = [client.next_data("e")["incidentEvents"] for _ in range(3)]
        assert [e["seq"] for e in live] == [22, 23, 24]
        assert [e["message"] for e in live] == ["live 0", "live 1", "live 2"]
    finally:
        client.close()


def test_replay_and_live_meet_without_gap_or_duplicate_while_writes_continue(
    service: ServiceProcess, second: ServiceProcess, gql: GraphQLClient
) -> None:
    """Writes race the replay: every seq arrives exactly once, in order."""
    import threading

    incident = declare(gql, "Seam")
    for n in range(10):
        add_note(gql, incident["id"], f"before {n}")
    gql_b = GraphQLClient(second.url)
    writer = threading.Thread(
        target=lambda: [add_note(gql_b, incident["id"], f"during {n}") for n in range(15)]
    )
    client = WsClient.initialised(service.ws_url)
    try:
        writer.start()
        client.subscribe("e", INCIDENT_EVENTS, {"id": incident["id"], "after": 0})
        writer.join()
        seqs = [client.next_data("e")["incidentEvents"]["seq"] for _ in range(26)]
        assert seqs == list(range(1, 27))
        add_note(gql, incident["id"], "after")
        assert client.next_data("e")["incidentEvents"]["seq"] == 27
    finally:
        client.close()


def test_incident_changed_filters_on_the_server(service: ServiceProcess, tag: str) -> None:
    gql = GraphQLClient(service.url)
    client = WsClient.initialised(service.ws_url)
    try:
        client.subscribe(
            "c",
            """subscription($f: IncidentFilter) {
                 incidentChanged(filter: $f) { key status priority labels } }""",
            {"f": {"label": tag, "priority": ["P1"], "status": ["TRIGGERED", "ACKNOWLEDGED"]}},
        )
        primed = prime(
            client,
            "c",
            lambda: declare(gql, "prime", labels=[tag], impact="HIGH", urgency="HIGH")["key"],
        )
        match = declare(gql, "P1 match", labels=[tag], impact="HIGH", urgency="HIGH")
        declare(gql, "wrong label", labels=[tag + "-x"], impact="HIGH", urgency="HIGH")
        declare(gql, "wrong priority", labels=[tag], impact="LOW", urgency="LOW")
        ok(gql, TRANSITION, id=match["id"], to="ACKNOWLEDGED")
        ok(gql, TRANSITION, id=match["id"], to="INVESTIGATING")
        last = declare(gql, "P1 match 2", labels=[tag], impact="HIGH", urgency="HIGH")
        seen: list[dict] = []
        while not seen or seen[-1]["key"] != last["key"]:
            state = client.next_data("c")["incidentChanged"]
            if state["key"] not in primed:
                seen.append(state)
        # INVESTIGATING is outside the filter: that change is not sent.
        assert [(s["key"], s["status"]) for s in seen] == [
            (match["key"], "TRIGGERED"),
            (match["key"], "ACKNOWLEDGED"),
            (last["key"], "TRIGGERED"),
        ]
        assert all(s["priority"] == "P1" and s["labels"] == [tag] for s in seen)
    finally:
        client.close()
