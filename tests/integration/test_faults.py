"""Faults injected into the database under a running service (issue 15).

The embedded server runs with its test commands, and `configureFailPoint`
fails the service's own commands (scoped by its appName, so this test's
client keeps working): commits that fail, connections dropped in the middle
of a transaction, a change stream whose reads fail, a database that stops
answering. After each: every mutation either fully happened or returned an
error, no incident without its events, no event without its incident, no
gap in `seq`, no duplicate from a retry, subscribers resumed without gap or
repeat, and /readyz said what was going on.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pymongo import MongoClient

from incident_service.embedded import EmbeddedMongo
from tests.conftest import service_env
from tests.support.api import ADD_NOTE, DECLARE, INCIDENT_EVENTS, declare, listen, mutate
from tests.support.polling import wait_for
from tests.support.processes import GraphQLClient, ServiceProcess
from tests.support.websocket import WsClient

#: The service's MongoDB appName (store/database.py): the failpoints match only its commands.
APP = "incident-service"


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedMongo]:
    db = EmbeddedMongo(tmp_path_factory.mktemp("faults"), test_commands=True)
    db.start(timeout=60)
    try:
        yield db
    finally:
        db.stop()


@pytest.fixture(scope="module")
def name() -> str:
    return f"faults_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def proc(
    database: EmbeddedMongo, name: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    process = ServiceProcess(
        service_env(database.uri, name),
        log_path=tmp_path_factory.mktemp("faults-svc") / "service.log",
    ).start()
    # Somebody listens, so that every change writes its outbox message: the failures
    # below then hit transactions that write one.
    listen(GraphQLClient(process.url))
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def control(database: EmbeddedMongo) -> Iterator[MongoClient[dict[str, Any]]]:
    """This test's own client: never matched by the failpoints."""
    client: MongoClient[dict[str, Any]] = MongoClient(database.uri)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(autouse=True)
def clear_failpoint(control: MongoClient[dict[str, Any]], proc: ServiceProcess) -> Iterator[None]:
    yield
    control.admin.command({"configureFailPoint": "failCommand", "mode": "off"})
    # A "shutting down" answer makes the driver forget the server until its next
    # heartbeat: wait until the service reaches the database again.
    wait_for(
        lambda: httpx.get(f"{proc.url}/readyz", timeout=10).status_code == 200,
        timeout=60,
        interval=0.2,
    )


def fail(control: MongoClient[dict[str, Any]], mode: Any, **data: Any) -> None:
    control.admin.command(
        {"configureFailPoint": "failCommand", "mode": mode, "data": {"appName": APP, **data}}
    )


def assert_consistent(control: MongoClient[dict[str, Any]], name: str) -> None:
    """No incident without its events, no event without its incident, no gap in seq."""
    db = control[name]
    incidents = {d["_id"]: d for d in db.incidents.find({}, {"lastSeq": 1})}
    seqs: dict[Any, list[int]] = {i: [] for i in incidents}
    for event in db.incident_events.find({}, {"incidentId": 1, "seq": 1}):
        assert event["incidentId"] in incidents, f"event {event['_id']} without its incident"
        seqs[event["incidentId"]].append(event["seq"])
    for incident_id, found in seqs.items():
        expected = list(range(1, incidents[incident_id]["lastSeq"] + 1))
        assert sorted(found) == expected, (incident_id, sorted(found))


def titled(control: MongoClient[dict[str, Any]], name: str, title: str) -> int:
    return control[name].incidents.count_documents({"title": title})


def test_a_transient_failure_is_retried_without_a_duplicate(
    proc: ServiceProcess, control: MongoClient[dict[str, Any]], name: str
) -> None:
    gql = GraphQLClient(proc.url)
    title = f"written once {uuid.uuid4().hex[:6]}"
    # The commit's answer is lost once: the driver commits again (the server's
    # first commit never happened), and the incident exists once.
    fail(
        control,
        {"times": 1},
        failCommands=["commitTransaction"],
        errorCode=112,
        errorLabels=["UnknownTransactionCommitResult"],
    )
    incident = declare(gql, title)
    assert titled(control, name, title) == 1
    assert [
        e["seq"] for e in control[name].incident_events.find({"incidentId": incident["id"]})
    ] == [1]
    assert_consistent(control, name)


def test_a_connection_dropped_mid_transaction_then_a_retry(
    proc: ServiceProcess, control: MongoClient[dict[str, Any]], name: str
) -> None:
    """The client retries with its idempotency key: one incident, whatever the first
    attempt answered."""
    gql = GraphQLClient(proc.url)
    title = f"dropped {uuid.uuid4().hex[:6]}"
    key = f"retry-{uuid.uuid4().hex[:6]}"
    # A declaration's documents go in one bulkWrite (store/inserts.py), or one insert
    # per collection on a server without it.
    fail(control, {"times": 1}, failCommands=["bulkWrite", "insert"], closeConnection=True)
    first = gql.post(DECLARE, {"input": {"title": title, "idempotencyKey": key}})
    assert first.status_code in (200, 400, 500) and "Traceback" not in first.text
    control.admin.command({"configureFailPoint": "failCommand", "mode": "off"})
    again = mutate(gql, DECLARE, title=title, idempotencyKey=key)
    assert again["userErrors"] == []
    assert titled(control, name, title) == 1
    assert_consistent(control, name)


def test_notes_under_failing_commits_are_all_or_nothing(
    proc: ServiceProcess, control: MongoClient[dict[str, Any]], name: str
) -> None:
    gql = GraphQLClient(proc.url)
    incident = declare(gql, f"noted {uuid.uuid4().hex[:6]}")
    fail(control, {"skip": 1, "times": 2}, failCommands=["commitTransaction"], errorCode=2,
         errorLabels=[])  # fmt: skip
    answered = []
    for n in range(5):
        payload = gql.post(ADD_NOTE, {"input": {"id": incident["id"], "body": f"note {n}"}})
        data = (payload.json().get("data") or {}).get("addNote") or {}
        answered.append(bool(data.get("incident")) and not data.get("userErrors"))
    stored = [
        e["data"].get("body") if isinstance(e.get("data"), dict) else e.get("message")
        for e in control[name].incident_events.find(
            {"incidentId": incident["id"], "seq": {"$gt": 1}}
        )
    ]
    # What was answered as done is stored, once; what failed is not there at all.
    assert len(stored) == sum(answered)
    assert_consistent(control, name)


def test_subscribers_resume_without_gap_or_repeat_when_the_stream_fails(
    proc: ServiceProcess, control: MongoClient[dict[str, Any]], name: str
) -> None:
    gql = GraphQLClient(proc.url)
    incident = declare(gql, f"streamed {uuid.uuid4().hex[:6]}")
    with WsClient.initialised(proc.ws_url) as ws:
        ws.subscribe("e", INCIDENT_EVENTS, {"id": incident["id"]})
        seen = [ws.next_data("e")["incidentEvents"]["seq"]]
        fail(control, {"times": 3}, failCommands=["getMore"], closeConnection=True)
        for n in range(6):
            mutate(gql, ADD_NOTE, id=incident["id"], body=f"during the outage {n}")
        while len(seen) < 7:
            seen.append(ws.next_data("e", timeout=60)["incidentEvents"]["seq"])
    assert seen == list(range(1, 8))


# Last of the writes: a commit whose outcome stays unknown leaves its transaction open
# on the server until the transaction lifetime limit, and writes to the same documents
# (the INC-n counter) conflict until then (docs/operations.md).
@pytest.mark.parametrize("code", [2, 91], ids=["BadValue", "ShutdownInProgress (retried)"])
def test_a_commit_that_fails_leaves_nothing_behind(
    proc: ServiceProcess, control: MongoClient[dict[str, Any]], name: str, code: int
) -> None:
    """A commit that keeps failing: an error within TRANSACTION_SECONDS (the driver
    would retry one it may retry for two minutes), and nothing written."""
    gql = GraphQLClient(proc.url)
    title = f"never written {uuid.uuid4().hex[:6]}"
    fail(control, "alwaysOn", failCommands=["commitTransaction"], errorCode=code, errorLabels=[])
    response = gql.post(DECLARE, {"input": {"title": title}}, timeout=60)
    body = response.json()
    assert body.get("errors") or body["data"]["declareIncident"]["userErrors"], body
    assert "Traceback" not in response.text
    assert titled(control, name, title) == 0
    assert_consistent(control, name)


def test_readyz_reports_a_database_that_does_not_answer(
    proc: ServiceProcess, control: MongoClient[dict[str, Any]]
) -> None:
    assert httpx.get(f"{proc.url}/readyz", timeout=10).status_code == 200
    fail(control, "alwaysOn", failCommands=["ping"], errorCode=91, errorLabels=[])

    def status() -> int:
        return httpx.get(f"{proc.url}/readyz", timeout=10).status_code

    wait_for(lambda: status() == 503, timeout=30, interval=0.2)
    body = httpx.get(f"{proc.url}/readyz", timeout=10).json()
    assert body["checks"]["database"] is False
    control.admin.command({"configureFailPoint": "failCommand", "mode": "off"})
    wait_for(lambda: status() == 200, timeout=30, interval=0.2)


def test_a_server_that_refuses_bulk_write_still_takes_every_change(
    proc: ServiceProcess, control: MongoClient[dict[str, Any]], name: str
) -> None:
    """An 8.0 server whose feature compatibility version is still 7.0 announces the
    wire version of `bulkWrite` and refuses the command (CommandNotSupported): the
    service writes one insert per collection from then on. Last in this file: the
    service keeps that choice for its life."""
    gql = GraphQLClient(proc.url)
    fail(control, "alwaysOn", failCommands=["bulkWrite"], errorCode=115, errorLabels=[])
    title = f"refused {uuid.uuid4().hex[:6]}"
    incident = declare(gql, title)
    noted = mutate(gql, ADD_NOTE, id=incident["id"], body="written per collection")
    assert noted["userErrors"] == []
    assert titled(control, name, title) == 1
    events = control[name].incident_events.find({"incidentId": incident["id"]})
    assert sorted(e["seq"] for e in events) == [1, 2]
    declared = {"type": "incident.declared", "data.incident.id": incident["id"]}
    assert control[name].outbox.count_documents(declared) == 1
    assert_consistent(control, name)
