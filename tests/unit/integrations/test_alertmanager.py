"""The Alertmanager webhook payload (v4) as signals."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from incident_service.domain.enums import AlertAction, Severity
from incident_service.integrations import alertmanager
from incident_service.integrations.payload import InvalidPayload

NOTIFICATION: dict[str, Any] = {
    "version": "4",
    "groupKey": '{}:{alertname="CheckoutDown"}',
    "truncatedAlerts": 0,
    "status": "firing",
    "receiver": "incident-service",
    "groupLabels": {"alertname": "CheckoutDown"},
    "commonLabels": {"alertname": "CheckoutDown", "severity": "critical"},
    "commonAnnotations": {"summary": "Checkout is failing"},
    "externalURL": "http://alertmanager:9093",
    "alerts": [
        {
            "status": "firing",
            "labels": {
                "alertname": "CheckoutDown",
                "severity": "critical",
                "service": "checkout",
                "instance": "web-1",
            },
            "annotations": {"summary": "Checkout is failing"},
            "startsAt": "2026-11-29T21:00:00.123456789Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus/graph",
            "fingerprint": "c6f1ab3d5e7f9a01",
        },
        {
            "status": "resolved",
            "labels": {"alertname": "CheckoutDown", "instance": "web-2"},
            "annotations": {},
            "startsAt": "2026-11-29T20:00:00Z",
            "endsAt": "2026-11-29T21:00:00Z",
            "generatorURL": "",
            "fingerprint": "aa",
        },
    ],
}


def test_each_alert_is_a_signal_of_the_group() -> None:
    firing, resolved = alertmanager.signals(NOTIFICATION)
    assert firing.action is AlertAction.TRIGGER and resolved.action is AlertAction.RESOLVE
    assert firing.dedup_key == "c6f1ab3d5e7f9a01" and firing.group == NOTIFICATION["groupKey"]
    assert (firing.summary, firing.source, firing.component) == (
        "Checkout is failing",
        "web-1",
        "checkout",
    )
    assert firing.severity is Severity.CRITICAL and resolved.severity is Severity.WARNING
    assert firing.occurred_at is not None and firing.occurred_at.microsecond == 123456


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda n: n.update(version="3"), "version"),
        (lambda n: n.update(alerts=[]), "alerts"),
        (lambda n: n["alerts"][0].update(status="on fire"), "alerts[0].status"),
        (lambda n: n["alerts"][1].update(startsAt="later"), "alerts[1].startsAt"),
        (lambda n: n["alerts"][0]["labels"].update(x=1), "alerts[0].labels.x"),
        (lambda n: n["alerts"][0].update(labels=[1]), "alerts[0].labels"),
    ],
)
def test_bad_notifications_name_the_field(change: Any, field: str) -> None:
    notification = copy.deepcopy(NOTIFICATION)
    change(notification)
    with pytest.raises(InvalidPayload) as raised:
        alertmanager.signals(notification)
    assert raised.value.problems[0].field == field


def test_severity_labels_as_teams_write_them() -> None:
    assert alertmanager.severity({"severity": "Page"}) is Severity.CRITICAL
    assert alertmanager.severity({"severity": "low"}) is Severity.INFO
    assert alertmanager.severity({}) is Severity.WARNING
