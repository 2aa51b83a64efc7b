"""Alert rules: bounds, severity -> priority and impact, and what alerts do to an incident."""

from __future__ import annotations

from dataclasses import replace

import pytest

from incident_service.domain import alerts
from incident_service.domain.alerts import Signal
from incident_service.domain.enums import (
    AlertAction,
    ComponentStatus,
    Impact,
    IncidentStatus,
    IntegrationKind,
    LinkKind,
    Priority,
    Severity,
    Urgency,
)
from incident_service.domain.errors import DomainError
from incident_service.domain.incident import transition
from incident_service.domain.integrations import Defaults, Integration
from tests.unit.helpers import T0, at, declared

SOURCE = Integration("1" * 24, "prom", IntegrationKind.ALERTMANAGER, "irk_abcdef", T0, "admin")
ACTOR = SOURCE.principal().actor
SERVICE = "5" * 24


def signal(**fields: object) -> Signal:
    base = Signal(AlertAction.TRIGGER, "k1", summary="Disk full", source="db-1")
    return replace(base, **fields)  # type: ignore[arg-type]


def alert(sig: Signal | None = None, now_minutes: int = 0) -> alerts.Alert:
    return alerts.new_alert(sig or signal(), SOURCE, alert_id="a" * 24, now=at(now_minutes))


def test_the_actor_of_an_integration_names_it() -> None:
    assert ACTOR == "integration:prom"


@pytest.mark.parametrize(
    ("severity", "priority"),
    [
        (Severity.CRITICAL, Priority.P1),
        (Severity.ERROR, Priority.P2),
        (Severity.WARNING, Priority.P3),
        (Severity.INFO, Priority.P5),
    ],
)
def test_severity_maps_to_priority(severity: Severity, priority: Priority) -> None:
    decl = alerts.declaration(alert(signal(severity=severity)), SOURCE, None)
    incident = declared()
    assert replace(incident, impact=decl.impact, urgency=decl.urgency).priority is priority


def test_integration_defaults_override_the_mapping() -> None:
    source = replace(SOURCE, defaults=Defaults(impact=Impact.LOW))
    assert alerts.priority(Severity.CRITICAL, source) == (Impact.LOW, Urgency.HIGH)


def test_a_named_service_is_impacted_by_severity() -> None:
    decl = alerts.declaration(alert(signal(severity=Severity.ERROR)), SOURCE, SERVICE)
    assert decl.service_ids == (SERVICE,)
    assert [s.status for s in decl.component_impacts] == [ComponentStatus.PARTIAL_OUTAGE]
    info = alerts.declaration(alert(signal(severity=Severity.INFO)), SOURCE, SERVICE)
    assert info.component_impacts == []


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"dedup_key": " "}, "dedupKey"),
        ({"summary": ""}, "summary"),
        ({"source": ""}, "source"),
        ({"labels": {f"l{i}": "v" for i in range(65)}}, "labels"),
        ({"labels": {"x": "v" * 1025}}, "labels"),
        ({"details": {"x": "v" * 17_000}}, "details"),
    ],
)
def test_out_of_bounds_signals_name_the_field(fields: dict[str, object], field: str) -> None:
    with pytest.raises(DomainError) as raised:
        alerts.check_signal(signal(**fields))
    assert raised.value.field == ("input", field)


def test_a_resolve_needs_no_summary() -> None:
    assert alerts.check_signal(Signal(AlertAction.RESOLVE, "k1")).dedup_key == "k1"


def test_detection_is_the_senders_time_but_never_the_future() -> None:
    assert alert(signal(occurred_at=at(-5))).first_seen_at == at(-5)
    assert alert(signal(occurred_at=at(60))).first_seen_at == at(0)


def test_a_content_key_is_stable_and_order_free() -> None:
    assert alerts.payload_dedup_key({"a": 1, "b": 2}) == alerts.payload_dedup_key({"b": 2, "a": 1})


def test_an_incident_opened_again_is_related_to_the_previous_one() -> None:
    previous = declared()
    first = alert(signal(occurred_at=at(-3)))
    change = alerts.open_incident(
        first,
        alerts.declaration(first, SOURCE, None),
        previous,
        incident_id="9" * 24,
        number=8,
        now=at(0),
        actor=ACTOR,
    )
    assert [e.type for e in change.events] == ["DECLARED", "INCIDENT_LINKED", "ALERT_TRIGGERED"]
    assert [e.seq for e in change.events] == [1, 2, 3]
    assert change.incident.links[0].kind is LinkKind.RELATED
    assert change.incident.detected_at == at(-3) and change.incident.version == 1


def test_a_joining_alert_attaches_and_impacts_its_service_and_moves_detection() -> None:
    incident = declared()
    later = alert(signal(occurred_at=T0.replace(year=2025), severity=Severity.CRITICAL))
    change = alerts.triggered(incident, later, SERVICE, now=at(1), actor=ACTOR)
    assert [e.type for e in change.events] == ["ALERT_TRIGGERED", "IMPACTS_CHANGED"]
    assert change.incident.service_ids == (SERVICE,)
    assert change.incident.detected_at == later.first_seen_at
    assert change.incident.version == incident.version + 1


def test_the_last_alert_resolves_the_incident_unless_people_work_it() -> None:
    incident = declared()
    done = alerts.resolved(incident, alert(), 0, SOURCE, now=at(2), actor=ACTOR)
    assert done.incident.status is IncidentStatus.RESOLVED
    assert [e.type for e in done.events] == ["ALERT_RESOLVED", "STATUS_CHANGED"]
    others_open = alerts.resolved(incident, alert(), 1, SOURCE, now=at(2), actor=ACTOR)
    assert others_open.incident.status is IncidentStatus.TRIGGERED
    worked = transition(incident, IncidentStatus.INVESTIGATING, now=at(1), actor="ann").incident
    kept = alerts.resolved(worked, alert(), 0, SOURCE, now=at(2), actor=ACTOR)
    assert kept.incident.status is IncidentStatus.INVESTIGATING
    manual = replace(SOURCE, auto_resolve=False)
    assert (
        alerts.resolved(incident, alert(), 0, manual, now=at(2), actor=ACTOR).incident.status
        is IncidentStatus.TRIGGERED
    )


def test_acknowledge_moves_only_a_triggered_incident() -> None:
    incident = declared()
    acked = alerts.acknowledged(incident, alert(), now=at(1), actor=ACTOR)
    assert acked.incident.status is IncidentStatus.ACKNOWLEDGED
    again = alerts.acknowledged(acked.incident, alert(), now=at(2), actor=ACTOR)
    assert [e.type for e in again.events] == ["ALERT_ACKNOWLEDGED"]
    assert again.incident.status is IncidentStatus.ACKNOWLEDGED


def test_a_reopened_incident_leaves_its_alert_group() -> None:
    grouped = replace(declared(), alert_group="1:g")
    done = transition(grouped, IncidentStatus.RESOLVED, now=at(1), actor="ann").incident
    assert done.alert_group == "1:g"
    reopened = transition(done, IncidentStatus.INVESTIGATING, now=at(2), actor="ann").incident
    assert reopened.alert_group is None
