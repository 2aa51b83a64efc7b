"""The Prometheus Alertmanager webhook payload (version 4) as alert signals.

Each alert is one signal keyed by its `fingerprint`; the notification's
`groupKey` is the group, so the alerts Alertmanager groups together share one
incident.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from incident_service.domain.alerts import Signal, payload_dedup_key
from incident_service.domain.enums import AlertAction, Severity
from incident_service.integrations.payload import invalid, mapping, string_map, text, timestamp

VERSION = "4"
#: Alerts one notification may carry; Alertmanager's own default is unlimited, but
#: `max_alerts` in its receiver config keeps a group's notification below this.
MAX_ALERTS = 1000

#: Severity label values as teams write them.
_SEVERITIES = {
    "critical": Severity.CRITICAL,
    "page": Severity.CRITICAL,
    "error": Severity.ERROR,
    "high": Severity.ERROR,
    "warning": Severity.WARNING,
    "warn": Severity.WARNING,
    "medium": Severity.WARNING,
    "info": Severity.INFO,
    "low": Severity.INFO,
    "none": Severity.INFO,
}


def severity(labels: Mapping[str, str]) -> Severity:
    """The `severity` label; WARNING when absent or unknown (an alert fired: someone looks)."""
    return _SEVERITIES.get(labels.get("severity", "").strip().lower(), Severity.WARNING)


def signals(body: Any) -> list[Signal]:
    """Every alert of a notification, or InvalidPayload naming the first field at fault."""
    if not isinstance(body, Mapping):
        raise invalid("body", "must be a JSON object")
    if str(body.get("version")) != VERSION:
        raise invalid("version", f"must be {VERSION!r} (Alertmanager webhook version 4)")
    group_key = text(body.get("groupKey"), "groupKey") or None
    alerts = body.get("alerts")
    if not isinstance(alerts, list) or not alerts:
        raise invalid("alerts", "must be a non-empty list")
    if len(alerts) > MAX_ALERTS:
        raise invalid("alerts", f"at most {MAX_ALERTS} alerts per notification")
    common = mapping(body.get("commonAnnotations"), "commonAnnotations")
    return [_signal(a, f"alerts[{i}]", group_key, common, body) for i, a in enumerate(alerts)]


def _signal(
    raw: Any,
    where: str,
    group_key: str | None,
    common: Mapping[str, Any],
    body: Mapping[str, Any],
) -> Signal:
    alert = mapping(raw, where)
    status = alert.get("status")
    if status not in ("firing", "resolved"):
        raise invalid(f"{where}.status", "must be 'firing' or 'resolved'")
    labels = string_map(alert.get("labels"), f"{where}.labels")
    annotations = string_map(alert.get("annotations"), f"{where}.annotations")
    starts_at = timestamp(alert.get("startsAt"), f"{where}.startsAt")
    timestamp(alert.get("endsAt"), f"{where}.endsAt")
    fingerprint = text(alert.get("fingerprint"), f"{where}.fingerprint")
    summary = (
        annotations.get("summary")
        or annotations.get("description")
        or common.get("summary")
        or labels.get("alertname")
        or ""
    )
    source = (
        labels.get("instance")
        or labels.get("job")
        or text(alert.get("generatorURL"), f"{where}.generatorURL")
        or text(body.get("externalURL"), "externalURL")
        or "alertmanager"
    )
    return Signal(
        action=AlertAction.TRIGGER if status == "firing" else AlertAction.RESOLVE,
        dedup_key=fingerprint or payload_dedup_key(labels),
        summary=str(summary),
        source=source,
        severity=severity(labels),
        component=labels.get("service") or labels.get("component"),
        labels=labels,
        details={
            "annotations": annotations,
            "generatorURL": alert.get("generatorURL"),
            "externalURL": body.get("externalURL"),
            "receiver": body.get("receiver"),
        },
        occurred_at=starts_at,
        group_key=group_key,
    )
