"""SLA clocks: which marks fall due when, once each, and what stops a clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from incident_service.domain import incident as inc
from incident_service.domain import sla
from incident_service.domain.enums import Impact, IncidentCategory, IncidentStatus, Urgency
from incident_service.domain.priority import DEFAULT_SLA

T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
POLICY = sla.Policy({p.value: t for p, t in DEFAULT_SLA.items()}, 0.8)
MIN = timedelta(minutes=1)


def p1(detected_at: datetime | None = None) -> inc.Incident:
    change = inc.declare(
        inc.Declaration(
            title="Down", category=IncidentCategory.OUTAGE, impact=Impact.HIGH,
            urgency=Urgency.HIGH, detected_at=detected_at,
        ),
        id="i1", number=1, now=T0, actor="a",
    )  # fmt: skip
    return sla.stamp(change.incident, POLICY)


def types(change: inc.Change) -> list[tuple[str, str]]:
    return [(e.type, e.data["target"]) for e in change.events]


def test_a_p1_left_alone_is_at_risk_at_4_minutes_and_breached_at_5() -> None:
    incident = p1()
    assert sla.next_mark(incident, POLICY) == T0 + 4 * MIN
    assert incident.sla_due_at == T0 + 5 * MIN
    assert sla.mark(incident, POLICY, T0 + 3 * MIN).events == ()
    at_risk = sla.mark(incident, POLICY, T0 + 4 * MIN)
    assert types(at_risk) == [("SLA_AT_RISK", "ACKNOWLEDGE")]
    incident = at_risk.incident
    assert sla.next_mark(incident, POLICY) == T0 + 5 * MIN
    breached = sla.mark(incident, POLICY, T0 + 5 * MIN)
    assert types(breached) == [("SLA_BREACHED", "ACKNOWLEDGE")]
    event = breached.events[0]
    assert event.data == {
        "target": "ACKNOWLEDGE",
        "dueAt": "2026-11-29T12:05:00Z",
        "priority": "P1",
    }
    incident = breached.incident
    assert incident.sla_breached and incident.version == at_risk.incident.version + 1
    # Once: the same moment again writes nothing; the resolve clock is next.
    assert sla.mark(incident, POLICY, T0 + 5 * MIN).events == ()
    assert sla.next_mark(incident, POLICY) == T0 + timedelta(hours=4) * 0.8
    assert incident.sla_due_at == T0 + timedelta(hours=4)


def test_a_late_check_writes_only_the_breach() -> None:
    change = sla.mark(p1(), POLICY, T0 + 10 * MIN)
    assert types(change) == [("SLA_BREACHED", "ACKNOWLEDGE")]
    assert sla.mark(change.incident, POLICY, T0 + 10 * MIN).events == ()


def test_the_clock_starts_at_detection() -> None:
    incident = p1(detected_at=T0 - 3 * MIN)
    assert sla.next_mark(incident, POLICY) == T0 + 1 * MIN


def test_acknowledging_stops_the_acknowledge_clock_and_resolving_stops_both() -> None:
    acked = inc.transition(p1(), IncidentStatus.ACKNOWLEDGED, now=T0 + MIN, actor="a").incident
    assert sla.next_mark(acked, POLICY) == T0 + timedelta(hours=4) * 0.8
    assert sla.mark(acked, POLICY, T0 + 10 * MIN).events == ()
    resolved = inc.transition(acked, IncidentStatus.RESOLVED, now=T0 + 2 * MIN, actor="a")
    assert sla.next_mark(resolved.incident, POLICY) is None
    assert sla.stamp(resolved.incident, POLICY).sla_due_at is None


def test_a_priority_change_moves_the_targets_and_keeps_what_was_written() -> None:
    breached = sla.mark(p1(), POLICY, T0 + 6 * MIN).incident
    lower = inc.update(
        breached, inc.Update(impact=Impact.LOW, urgency=Urgency.LOW), now=T0 + 7 * MIN, actor="a"
    ).incident
    assert lower.sla_breached  # written, stays
    # P5: resolve in 7 days, at risk at 80 % of that.
    assert sla.next_mark(lower, POLICY) == T0 + timedelta(days=7) * 0.8
    p3 = inc.update(
        p1(), inc.Update(impact=Impact.MEDIUM, urgency=Urgency.MEDIUM), now=T0, actor="a"
    ).incident
    assert sla.next_mark(p3, POLICY) == T0 + timedelta(hours=1) * 0.8


def test_a_closed_incident_has_no_running_clock() -> None:
    incident = replace(p1(), status=IncidentStatus.CLOSED)
    assert sla.points(incident, POLICY) == []


def test_the_list_filter_and_its_in_memory_twin_agree_on_sla_fields() -> None:
    from incident_service.domain.query import IncidentQuery, matches

    fresh = p1()
    breached = sla.mark(fresh, POLICY, T0 + 6 * MIN).incident
    assert matches(IncidentQuery(sla_breached=True), breached)
    assert not matches(IncidentQuery(sla_breached=True), fresh)
    assert matches(IncidentQuery(sla_breached=False), fresh)
    assert matches(IncidentQuery(sla_due_before=T0 + 6 * MIN), fresh)
    assert not matches(IncidentQuery(sla_due_before=T0 + 5 * MIN), fresh)
