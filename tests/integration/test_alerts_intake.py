"""Alert intake beyond Events v2: the Alertmanager endpoint's grouping and errors,
`reportAlert` over GraphQL, maintenance suppression, and what a routing key cannot do."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.support.api import (
    ALERTS,
    DECLARE,
    GET,
    REPORT_ALERT,
    alerts,
    create_integration,
    create_service,
    error_codes,
    get,
    mutate,
    timeline,
)
from tests.support.polling import wait_for
from tests.support.processes import GraphQLClient, ServiceProcess
from tests.support.websocket import WsClient, message_errors

ALERTMANAGER = "/integrations/alertmanager"
SCHEDULE = """mutation($input: ScheduleMaintenanceInput!) {
  scheduleMaintenance(input: $input) { maintenance { id status } userErrors { code message } }
}"""


def notification(group: str, *alerts_: dict[str, Any], status: str = "firing") -> dict[str, Any]:
    return {
        "version": "4",
        "groupKey": group,
        "status": status,
        "receiver": "incident-service",
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": list(alerts_),
    }


def am_alert(fingerprint: str, status: str = "firing", **labels: str) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": "HighLatency", "severity": "warning", **labels},
        "annotations": {"summary": f"Latency high on {fingerprint}"},
        "startsAt": "2026-11-29T20:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus/graph",
        "fingerprint": fingerprint,
    }


def post(service: ServiceProcess, key: str | None, body: Any) -> httpx.Response:
    headers = {"authorization": f"Bearer {key}"} if key else {}
    return httpx.post(service.url + ALERTMANAGER, json=body, headers=headers, timeout=30)


@pytest.fixture
def source(gql: GraphQLClient) -> tuple[str, dict[str, Any]]:
    return create_integration(gql, f"am-{uuid.uuid4().hex[:8]}", "ALERTMANAGER")


def test_the_alerts_of_one_group_share_one_incident(
    service: ServiceProcess, gql: GraphQLClient, source: tuple[str, dict[str, Any]]
) -> None:
    key, integration = source
    group = '{}:{alertname="HighLatency"}'
    answer = post(service, key, notification(group, am_alert("f1"), am_alert("f2")))
    assert answer.status_code == 200 and answer.json() == {"status": "success", "alerts": 2}
    post(service, key, notification(group, am_alert("f3")))
    found = alerts(gql, integrationId=integration["id"])
    assert sorted(a["dedupKey"] for a in found) == ["f1", "f2", "f3"]
    (incident_id,) = {a["incident"]["id"] for a in found}
    assert [e["type"] for e in timeline(gql, incident_id)].count("ALERT_TRIGGERED") == 3
    listed = gql(
        "query($id: ID!) { incident(id: $id) { alerts { dedupKey status } } }", {"id": incident_id}
    )["incident"]["alerts"]
    assert sorted(a["dedupKey"] for a in listed) == ["f1", "f2", "f3"]

    # Resolving two of three keeps it open; the last one resolves it.
    post(service, key, notification(group, am_alert("f1", "resolved"), am_alert("f2", "resolved")))
    assert get(gql, incident_id)["status"] == "TRIGGERED"
    post(service, key, notification(group, am_alert("f3", "resolved"), status="resolved"))
    assert get(gql, incident_id)["status"] == "RESOLVED"

    # Another group is another incident.
    post(service, key, notification("other", am_alert("g1")))
    assert alerts(gql, integrationId=integration["id"])[0]["incident"]["id"] != incident_id


def test_bad_notifications_are_refused_and_write_nothing(
    service: ServiceProcess, gql: GraphQLClient, source: tuple[str, dict[str, Any]]
) -> None:
    key, _ = source
    before = gql(ALERTS, {"first": 1})["alerts"]["totalCount"]
    good = notification("g", am_alert("ok"))
    for bad_key in (None, "irk_unknown", "isk_an-api-key", "garbage"):
        refused = post(service, bad_key, good)
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
        assert refused.json()["errors"][0]["field"] == "routing_key"
    late = am_alert("bad", startsAt="whenever")
    late["startsAt"] = "whenever"
    for body, field in (
        ({**good, "version": "3"}, "version"),
        (notification("g", am_alert("ok"), late), "alerts[1].startsAt"),
        (notification("g", {**am_alert("ok"), "status": "maybe"}), "alerts[0].status"),
        (notification("g", {**am_alert("x"), "labels": {"n": 1}}), "alerts[0].labels.n"),
        ({"alerts": "none", "version": "4"}, "alerts"),
    ):
        answer = post(service, key, body)
        assert answer.status_code == 400, (field, answer.text)
        assert answer.json()["errors"][0]["field"] == field
    broken = httpx.post(
        service.url + ALERTMANAGER, content=b"{", headers={"authorization": f"Bearer {key}"}
    )
    assert broken.status_code == 400 and broken.json()["errors"][0]["field"] == "body"
    huge = notification("g", {**am_alert("big"), "annotations": {"x": "y" * 600_000}})
    assert post(service, key, huge).status_code == 413
    assert gql(ALERTS, {"first": 1})["alerts"]["totalCount"] == before


def test_an_alert_for_a_service_under_maintenance_is_suppressed(
    service: ServiceProcess, gql: GraphQLClient, source: tuple[str, dict[str, Any]]
) -> None:
    key, integration = source
    name = f"payments-{uuid.uuid4().hex[:8]}"
    service_id = create_service(gql, name)
    now = datetime.now(UTC)
    window = mutate(
        gql,
        SCHEDULE,
        title="Database upgrade",
        serviceIds=[service_id],
        startsAt=(now - timedelta(minutes=1)).isoformat(),
        endsAt=(now + timedelta(hours=1)).isoformat(),
    )
    assert window["userErrors"] == [], window
    # A start in the past is due at once: the job worker starts it within a poll.
    wait_for(
        lambda: (
            gql(
                "query($id: ID!) { maintenance(id: $id) { status } }",
                {"id": window["maintenance"]["id"]},
            )["maintenance"]["status"]
            == "IN_PROGRESS"
        ),
        30,
    )
    for _ in range(2):
        assert (
            post(service, key, notification("m", am_alert("m1", service=name))).status_code == 200
        )
    (alert,) = alerts(gql, integrationId=integration["id"])
    assert alert["suppressed"] is True and alert["incident"] is None and alert["count"] == 2


def test_report_alert_over_graphql(service: ServiceProcess, gql: GraphQLClient) -> None:
    key, integration = create_integration(gql, f"gql-{uuid.uuid4().hex[:8]}")
    as_sender = GraphQLClient(service.url, key)
    made = mutate(
        as_sender,
        REPORT_ALERT,
        dedupKey="cpu",
        summary="CPU at 100%",
        source="web-3",
        severity="ERROR",
        labels={"team": "web"},
        details={"load": [9, 9, 9]},
        occurredAt="2026-11-29T20:00:00Z",
    )
    assert made["userErrors"] == [] and made["alert"]["status"] == "TRIGGERED"
    # The key may also come in the input, from any caller.
    again = mutate(
        GraphQLClient(service.url, None),
        REPORT_ALERT,
        integrationKey=key,
        dedupKey="cpu",
        summary="CPU at 100%",
        source="web-3",
    )
    assert again["alert"]["count"] == 2
    (alert,) = alerts(gql, integrationId=integration["id"])
    assert alert["labels"] == [{"name": "team", "value": "web"}]
    assert alert["details"] == {"load": [9, 9, 9]}
    incident = get(gql, alert["incident"]["id"])
    assert incident["detectedAt"].startswith("2026-11-29T20:00:00")
    assert incident["priority"] == "P2"

    missing = mutate(as_sender, REPORT_ALERT, dedupKey="cpu2", summary="", source="x")
    assert missing["userErrors"][0]["field"] == ["input", "summary"]
    resolved = mutate(as_sender, REPORT_ALERT, dedupKey="cpu", action="RESOLVE")
    assert resolved["alert"]["status"] == "RESOLVED"
    nothing = mutate(as_sender, REPORT_ALERT, dedupKey="never", action="RESOLVE")
    assert nothing == {"alert": None, "userErrors": []}

    body = GraphQLClient(service.url, None).post(
        REPORT_ALERT, {"input": {"integrationKey": "irk_wrong", "dedupKey": "x"}}, key=False
    )
    assert error_codes(body.json()) == ["UNAUTHENTICATED"]


def test_a_routing_key_reads_nothing_internal(service: ServiceProcess, gql: GraphQLClient) -> None:
    key, integration = create_integration(gql, f"ro-{uuid.uuid4().hex[:8]}")
    as_sender = GraphQLClient(service.url, key)
    made = as_sender.post(
        "mutation($input: ReportAlertInput!) { reportAlert(input: $input) "
        "{ alert { id incident { id title } integration { name } } } }",
        {"input": {"dedupKey": "k", "summary": "s", "source": "s"}},
    ).json()
    assert error_codes(made) == ["FORBIDDEN", "FORBIDDEN"], made
    incident_id = alerts(gql, integrationId=integration["id"])[0]["incident"]["id"]
    read = as_sender.post(GET, {"id": incident_id}).json()
    assert error_codes(read) == ["FORBIDDEN"] and read["data"]["incident"] is None


def test_declare_takes_a_detection_time_not_in_the_future(gql: GraphQLClient) -> None:
    past = datetime.now(UTC) - timedelta(minutes=30)
    made = mutate(gql, DECLARE, title="Seen earlier", detectedAt=past.isoformat())
    assert made["incident"]["detectedAt"][:16] == past.isoformat()[:16]
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    refused = mutate(gql, DECLARE, title="Seen later", detectedAt=future)
    assert refused["userErrors"][0]["field"] == ["input", "detectedAt"]


def test_labels_and_details_are_stored_as_given_never_as_queries(
    service: ServiceProcess, gql: GraphQLClient
) -> None:
    key, integration = create_integration(gql, f"hostile-{uuid.uuid4().hex[:8]}")
    sender = GraphQLClient(service.url, key)

    def report(dedup_key: str, labels: Any, details: Any = None) -> Any:
        return mutate(
            sender,
            REPORT_ALERT,
            dedupKey=dedup_key,
            summary="hostile",
            source="x",
            labels=labels,
            details=details,
        )

    labels = {"$where": "sleep(10000)", "a.b": "c", "service": "$ne"}
    details = {"$set": {"status": "RESOLVED"}, "x.y": [{"$gt": ""}]}
    made = report("$ne", labels, details)
    assert made["userErrors"] == [], made
    (alert,) = alerts(gql, integrationId=integration["id"])
    assert {(x["name"], x["value"]) for x in alert["labels"]} == set(labels.items())
    assert alert["details"] == details and alert["dedupKey"] == "$ne"
    for bad in ({f"l{i}": "v" for i in range(65)}, ["a"], {"n": 1}):
        refused = report("bad", bad)
        assert refused["userErrors"][0]["field"] == ["input", "labels"], (bad, refused)


def test_over_a_websocket_the_key_goes_with_each_alert(
    service: ServiceProcess, gql: GraphQLClient
) -> None:
    """Found in review: a socket's key is checked once, so a rotated key kept reporting."""
    key, _ = create_integration(gql, f"ws-{uuid.uuid4().hex[:8]}")
    client = WsClient.initialised(service.ws_url, key=key)
    try:
        alert = {"dedupKey": "ws", "summary": "s", "source": "x"}
        client.subscribe("a", REPORT_ALERT, {"input": alert})
        message = client.recv()
        assert [e["extensions"]["code"] for e in message_errors(message)] == ["UNAUTHENTICATED"]
        client.subscribe("b", REPORT_ALERT, {"input": {**alert, "integrationKey": key}})
        answer = client.recv()
        while answer.get("id") != "b":  # the end of operation "a"
            answer = client.recv()
        assert answer["type"] == "next" and answer["payload"]["data"]["reportAlert"]["alert"]
    finally:
        client.close()
