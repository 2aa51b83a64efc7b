"""The PagerDuty Events API v2 event as an alert signal, and PagerDuty's answers.

A sender that works with PagerDuty works here by changing the URL: the same
body, the same 202 / 400 / 429 bodies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from incident_service.domain.alerts import Signal, payload_dedup_key
from incident_service.domain.enums import AlertAction, Severity
from incident_service.integrations.payload import (
    InvalidPayload,
    invalid,
    mapping,
    text,
    timestamp,
)

_ACTIONS = {
    "trigger": AlertAction.TRIGGER,
    "acknowledge": AlertAction.ACKNOWLEDGE,
    "resolve": AlertAction.RESOLVE,
}
_SEVERITIES = {s.value.lower(): s for s in Severity}


def routing_key(body: Any) -> str:
    if not isinstance(body, Mapping):
        raise invalid("body", "must be a JSON object")
    return text(body.get("routing_key"), "routing_key", required=True)


def signal(body: Mapping[str, Any]) -> Signal:
    """The event as a signal, or InvalidPayload naming the field at fault."""
    action = _ACTIONS.get(str(body.get("event_action")))
    if action is None:
        raise invalid("event_action", "must be one of trigger, acknowledge, resolve")
    dedup_key = text(body.get("dedup_key"), "dedup_key")
    if action is AlertAction.TRIGGER:
        return _trigger(body, dedup_key)
    if not dedup_key:
        raise invalid("dedup_key", "is required to acknowledge or resolve")
    return Signal(action=action, dedup_key=dedup_key)


def _trigger(body: Mapping[str, Any], dedup_key: str) -> Signal:
    payload = mapping(body.get("payload"), "payload")
    if not payload:
        raise invalid("payload", "is required for a trigger")
    summary = text(payload.get("summary"), "payload.summary", required=True)
    source = text(payload.get("source"), "payload.source", required=True)
    raw_severity = text(payload.get("severity"), "payload.severity", required=True)
    severity = _SEVERITIES.get(raw_severity)
    if severity is None:
        raise invalid("payload.severity", "must be one of critical, error, warning, info")
    details = payload.get("custom_details")
    labels = {
        name: value
        for name in ("group", "class", "component")
        if (value := text(payload.get(name), f"payload.{name}"))
    }
    return Signal(
        action=AlertAction.TRIGGER,
        # PagerDuty keys an event sent without one by its content, and says which.
        dedup_key=dedup_key or payload_dedup_key(dict(payload)),
        summary=summary,
        source=source,
        severity=severity,
        component=labels.get("component"),
        labels=labels,
        details={
            "custom_details": details if details is not None else {},
            "links": body.get("links") or [],
            "images": body.get("images") or [],
            "client": body.get("client"),
            "client_url": body.get("client_url"),
        },
        occurred_at=timestamp(payload.get("timestamp"), "payload.timestamp"),
    )


def accepted(dedup_key: str) -> dict[str, Any]:
    return {"status": "success", "message": "Event processed", "dedup_key": dedup_key}


def rejected(error: InvalidPayload) -> dict[str, Any]:
    return {
        "status": "invalid event",
        "message": "Event object is invalid",
        "errors": [f"'{p.field}' {p.message}" for p in error.problems],
    }
