"""The Events v2 event as a signal, and PagerDuty's answers."""

from __future__ import annotations

import pytest

from incident_service.domain.enums import AlertAction, Severity
from incident_service.integrations import events_v2
from incident_service.integrations.payload import InvalidPayload, Problem

TRIGGER = {
    "routing_key": "irk_x",
    "event_action": "trigger",
    "payload": {
        "summary": "DISK at 99%",
        "source": "db-1",
        "severity": "error",
        "timestamp": "2015-07-17T08:42:58.315+0000",
        "component": "mysql",
        "group": "prod",
        "class": "disk",
        "custom_details": {"free": "1%"},
    },
}


def test_a_trigger_without_dedup_key_is_keyed_by_its_payload() -> None:
    signal = events_v2.signal(TRIGGER)
    assert signal.action is AlertAction.TRIGGER and signal.severity is Severity.ERROR
    assert signal.dedup_key == events_v2.signal(TRIGGER).dedup_key
    assert signal.component == "mysql" and signal.labels["class"] == "disk"
    assert signal.details["custom_details"] == {"free": "1%"}


def test_resolve_needs_a_dedup_key() -> None:
    with pytest.raises(InvalidPayload) as raised:
        events_v2.signal({"event_action": "resolve"})
    assert raised.value.problems[0].field == "dedup_key"
    assert events_v2.signal({"event_action": "resolve", "dedup_key": "k"}).dedup_key == "k"


def test_answers_have_pagerdutys_shape() -> None:
    assert events_v2.accepted("k") == {
        "status": "success",
        "message": "Event processed",
        "dedup_key": "k",
    }
    body = events_v2.rejected(InvalidPayload(Problem("payload.summary", "is missing or blank")))
    assert body == {
        "status": "invalid event",
        "message": "Event object is invalid",
        "errors": ["'payload.summary' is missing or blank"],
    }
