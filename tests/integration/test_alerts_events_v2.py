"""Alerts in through the PagerDuty Events v2 endpoint, with PagerDuty's own example bodies:
one alert per dedup key, one incident per alert group, acknowledge and auto-resolve, and
PagerDuty's answers."""

from __future__ import annotations

import copy
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.api import (
    ALERTS,
    TRANSITION,
    alerts,
    create_integration,
    create_service,
    get,
    ok,
    timeline,
)
from tests.support.processes import GraphQLClient, ServiceProcess

RECORDED = Path(__file__).parent / "recorded"
ENQUEUE = "/integrations/events/v2/enqueue"


def recorded(name: str, key: str, dedup_key: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((RECORDED / f"events_v2_{name}.json").read_text())
    body["routing_key"] = key
    body["dedup_key"] = dedup_key
    return body


def send(service: ServiceProcess, body: Any) -> httpx.Response:
    # Encoded here (ASCII, escapes kept) so a test can send what httpx would refuse
    # to encode itself, such as a lone surrogate.
    return httpx.post(
        service.url + ENQUEUE,
        content=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
        timeout=30,
    )


@pytest.fixture
def source(gql: GraphQLClient) -> tuple[str, dict[str, Any]]:
    return create_integration(gql, f"events-{uuid.uuid4().hex[:8]}")


def test_trigger_repeat_acknowledge_resolve(
    service: ServiceProcess, gql: GraphQLClient, source: tuple[str, dict[str, Any]]
) -> None:
    key, integration = source
    dedup = f"disk-{uuid.uuid4().hex[:8]}"

    first = send(service, recorded("trigger", key, dedup))
    assert first.status_code == 202, first.text
    assert first.json() == {"status": "success", "message": "Event processed", "dedup_key": dedup}
    again = send(service, recorded("trigger", key, dedup))
    assert again.status_code == 202

    (alert,) = alerts(gql, integrationId=integration["id"])
    assert alert["count"] == 2 and alert["status"] == "TRIGGERED"
    assert alert["severity"] == "CRITICAL" and alert["integration"]["name"] == integration["name"]
    assert alert["details"]["custom_details"]["free space"] == "1%"
    incident = get(gql, alert["incident"]["id"])
    assert incident["priority"] == "P1" and incident["status"] == "TRIGGERED"
    assert incident["declaredBy"] == f"integration:{integration['name']}"
    # detectedAt is the sender's timestamp, not the arrival.
    assert incident["detectedAt"].startswith("2015-07-17T08:42:58.315")
    types = [e["type"] for e in timeline(gql, incident["id"])]
    assert types.count("ALERT_TRIGGERED") == 1, types

    assert send(service, recorded("acknowledge", key, dedup)).status_code == 202
    assert get(gql, incident["id"])["status"] == "ACKNOWLEDGED"

    assert send(service, recorded("resolve", key, dedup)).status_code == 202
    (alert,) = alerts(gql, integrationId=integration["id"])
    assert alert["status"] == "RESOLVED" and alert["resolvedAt"]
    resolved = get(gql, incident["id"])
    assert resolved["status"] == "RESOLVED"
    events = timeline(gql, incident["id"])
    assert [e["type"] for e in events].count("ALERT_RESOLVED") == 1
    # Detected in 2015 (the recorded payload's timestamp): the SLA clock ran out long ago,
    # and the timer may have said so; everything else is the integration's doing.
    assert {e["actor"] for e in events} - {"sla"} == {f"integration:{integration['name']}"}

    # The incident is resolved: the same key opens a new one, RELATED to it.
    assert send(service, recorded("trigger", key, dedup)).status_code == 202
    newest = alerts(gql, integrationId=integration["id"])[0]
    assert newest["status"] == "TRIGGERED" and newest["count"] == 1
    reopened = get(gql, newest["incident"]["id"])
    assert reopened["id"] != incident["id"]
    assert [(x["kind"], x["incidentId"]) for x in reopened["links"]] == [
        ("RELATED", incident["id"])
    ]
    # A person may still reopen the old one while the group's new one is open.
    assert ok(gql, TRANSITION, id=incident["id"], to="INVESTIGATING")["status"] == "INVESTIGATING"


def test_a_trigger_without_dedup_key_is_keyed_by_its_content(
    service: ServiceProcess, gql: GraphQLClient, source: tuple[str, dict[str, Any]]
) -> None:
    key, integration = source
    body = recorded("trigger", key, "x")
    del body["dedup_key"]
    answers = [send(service, body).json() for _ in range(2)]
    assert answers[0]["dedup_key"] == answers[1]["dedup_key"]
    (alert,) = alerts(gql, integrationId=integration["id"])
    assert alert["dedupKey"] == answers[0]["dedup_key"] and alert["count"] == 2


def test_fifty_concurrent_triggers_make_one_alert_and_one_incident(
    service: ServiceProcess, gql: GraphQLClient, source: tuple[str, dict[str, Any]]
) -> None:
    key, integration = source
    body = recorded("trigger", key, f"storm-{uuid.uuid4().hex[:8]}")
    with ThreadPoolExecutor(max_workers=50) as pool:
        codes = list(pool.map(lambda _: send(service, body).status_code, range(50)))
    assert codes == [202] * 50
    (alert,) = alerts(gql, integrationId=integration["id"])
    assert alert["count"] == 50
    incidents = {a["incident"]["id"] for a in alerts(gql, integrationId=integration["id"])}
    assert len(incidents) == 1


def test_severity_maps_to_priority_and_a_named_service_is_impacted(
    service: ServiceProcess, gql: GraphQLClient, source: tuple[str, dict[str, Any]]
) -> None:
    key, integration = source
    name = f"db-{uuid.uuid4().hex[:8]}"
    service_id = create_service(gql, name)
    for severity, priority, status in (
        ("error", "P2", "PARTIAL_OUTAGE"),
        ("warning", "P3", "DEGRADED_PERFORMANCE"),
        ("info", "P5", None),
    ):
        body = recorded("trigger", key, f"{severity}-{uuid.uuid4().hex[:6]}")
        body["payload"].update(severity=severity, component=name)
        assert send(service, body).status_code == 202
        alert = alerts(gql, integrationId=integration["id"])[0]
        incident = get(gql, alert["incident"]["id"])
        assert incident["priority"] == priority
        assert [s["id"] for s in incident["services"]] == [service_id]
        impacts = gql(
            "query($id: ID!) { incident(id: $id) { componentImpacts { status endedAt } } }",
            {"id": incident["id"]},
        )["incident"]["componentImpacts"]
        assert [i["status"] for i in impacts] == ([status] if status else [])


def test_people_keep_control_of_an_incident_they_work(
    service: ServiceProcess, gql: GraphQLClient, source: tuple[str, dict[str, Any]]
) -> None:
    key, integration = source
    dedup = f"worked-{uuid.uuid4().hex[:8]}"
    send(service, recorded("trigger", key, dedup))
    incident_id = alerts(gql, integrationId=integration["id"])[0]["incident"]["id"]
    ok(gql, TRANSITION, id=incident_id, to="INVESTIGATING")
    assert send(service, recorded("resolve", key, dedup)).status_code == 202
    assert get(gql, incident_id)["status"] == "INVESTIGATING"
    assert "ALERT_RESOLVED" in [e["type"] for e in timeline(gql, incident_id)]


def test_without_auto_resolve_the_incident_stays_open(
    service: ServiceProcess, gql: GraphQLClient
) -> None:
    key, integration = create_integration(gql, f"manual-{uuid.uuid4().hex[:8]}", autoResolve=False)
    dedup = f"manual-{uuid.uuid4().hex[:8]}"
    send(service, recorded("trigger", key, dedup))
    send(service, recorded("resolve", key, dedup))
    (alert,) = alerts(gql, integrationId=integration["id"])
    assert alert["status"] == "RESOLVED"
    assert get(gql, alert["incident"]["id"])["status"] == "TRIGGERED"


def test_integration_defaults_override_the_severity(
    service: ServiceProcess, gql: GraphQLClient
) -> None:
    key, integration = create_integration(
        gql,
        f"defaults-{uuid.uuid4().hex[:8]}",
        defaults={"category": "SECURITY", "impact": "LOW", "labels": ["edr"]},
    )
    send(service, recorded("trigger", key, "ransomware"))
    (alert,) = alerts(gql, integrationId=integration["id"])
    incident = get(gql, alert["incident"]["id"])
    assert (incident["category"], incident["impact"], incident["urgency"]) == (
        "SECURITY",
        "LOW",
        "HIGH",
    )
    assert incident["labels"] == ["edr"] and incident["priority"] == "P3"


def _count(gql: GraphQLClient) -> int:
    return int(gql(ALERTS, {"first": 1})["alerts"]["totalCount"])


def _problems(source: tuple[str, dict[str, Any]]) -> list[tuple[Any, str]]:
    key, _ = source
    base = recorded("trigger", key, "bad")

    def without(field: str) -> dict[str, Any]:
        body = copy.deepcopy(base)
        del body["payload"][field]
        return body

    def with_payload(**fields: Any) -> dict[str, Any]:
        body = copy.deepcopy(base)
        body["payload"].update(fields)
        return body

    return [
        (without("summary"), "payload.summary"),
        (without("source"), "payload.source"),
        (without("severity"), "payload.severity"),
        (with_payload(severity="fatal"), "payload.severity"),
        (with_payload(timestamp="yesterday"), "payload.timestamp"),
        (with_payload(timestamp="2026-01-01T00:00:00"), "payload.timestamp"),
        ({**base, "event_action": "explode"}, "event_action"),
        ({**base, "routing_key": "irk_not-a-key"}, "routing_key"),
        ({k: v for k, v in base.items() if k != "routing_key"}, "routing_key"),
        ({**base, "event_action": "resolve", "dedup_key": ""}, "dedup_key"),
        (with_payload(custom_details={"x": "y" * 20_000}), "details"),
        ([1, 2, 3], "body"),
        # Found in review: these used to answer 500.
        (with_payload(summary="lone \ud800 surrogate"), "summary"),
        (with_payload(timestamp="9999-12-31T23:00:00-05:00"), "payload.timestamp"),
    ]


def test_bad_events_get_pagerdutys_error_body_and_write_nothing(
    service: ServiceProcess, gql: GraphQLClient, source: tuple[str, dict[str, Any]]
) -> None:
    before = _count(gql)
    for body, field in _problems(source):
        response = send(service, body)
        assert response.status_code == 400, (field, response.text)
        answer = response.json()
        assert answer["status"] == "invalid event" and answer["message"], answer
        assert any(field in e for e in answer["errors"]), (field, answer)
    broken = httpx.post(
        service.url + ENQUEUE,
        content=b'{"routing_key": ',
        headers={"content-type": "application/json"},
    )
    assert broken.status_code == 400 and "body" in broken.json()["errors"][0]
    nested = httpx.post(
        service.url + ENQUEUE,
        content=b"[" * 200_000,
        headers={"content-type": "application/json"},
    )
    assert nested.status_code == 400 and "body" in nested.json()["errors"][0]
    huge = recorded("trigger", source[0], "huge")
    huge["payload"]["custom_details"] = {"blob": "x" * 600_000}
    too_large = send(service, huge)
    assert too_large.status_code == 413 and too_large.json()["status"] == "invalid event"
    assert _count(gql) == before


def test_a_rotated_or_disabled_key_is_refused(
    service: ServiceProcess, gql: GraphQLClient, source: tuple[str, dict[str, Any]]
) -> None:
    from tests.support.api import DISABLE_INTEGRATION, ROTATE_INTEGRATION_KEY, mutate

    old, integration = source
    rotated = mutate(gql, ROTATE_INTEGRATION_KEY, id=integration["id"])
    new = rotated["routingKey"]
    assert new.startswith("irk_") and new != old
    assert send(service, recorded("trigger", old, "k")).status_code == 400
    assert send(service, recorded("trigger", new, "k")).status_code == 202
    mutate(gql, DISABLE_INTEGRATION, id=integration["id"])
    refused = send(service, recorded("trigger", new, "k"))
    assert refused.status_code == 400 and refused.json()["errors"] == ["'routing_key' is invalid"]
