"""Every cell of the ITIL impact x urgency matrix, and SLA breach rules."""

from __future__ import annotations

from datetime import timedelta

import pytest

from incident_service.domain import incident as domain
from incident_service.domain.enums import Impact, Priority, Urgency
from incident_service.domain.priority import (
    DEFAULT_SLA,
    MATRIX,
    SlaTarget,
    priority_of,
    sla_status,
    sla_targets_from_seconds,
)
from tests.unit.helpers import ACTOR, at, declared

Im, U, P = Impact, Urgency, Priority
EXPECTED = {
    (Im.HIGH, U.HIGH): P.P1,
    (Im.HIGH, U.MEDIUM): P.P2,
    (Im.HIGH, U.LOW): P.P3,
    (Im.MEDIUM, U.HIGH): P.P2,
    (Im.MEDIUM, U.MEDIUM): P.P3,
    (Im.MEDIUM, U.LOW): P.P4,
    (Im.LOW, U.HIGH): P.P3,
    (Im.LOW, U.MEDIUM): P.P4,
    (Im.LOW, U.LOW): P.P5,
}


def test_matrix_has_nine_cells() -> None:
    assert len(EXPECTED) == 9 and set(MATRIX) == set(EXPECTED)


@pytest.mark.parametrize(("impact", "urgency"), list(EXPECTED))
def test_priority_cell(impact: Impact, urgency: Urgency) -> None:
    assert priority_of(impact, urgency) is EXPECTED[(impact, urgency)]
    assert declared(impact=impact, urgency=urgency).priority is EXPECTED[(impact, urgency)]


def test_priority_follows_an_update_and_is_recorded() -> None:
    incident = declared(impact=Impact.LOW, urgency=Urgency.LOW)
    change = domain.update(
        incident, domain.Update(impact=Impact.HIGH, urgency=Urgency.HIGH), now=at(1), actor=ACTOR
    )
    assert change.incident.priority is Priority.P1
    assert [e.type for e in change.events] == ["UPDATED", "PRIORITY_CHANGED"]
    assert change.events[1].data == {"from": "P5", "to": "P1"}


def test_update_that_keeps_priority_records_no_priority_event() -> None:
    incident = declared(impact=Impact.HIGH, urgency=Urgency.MEDIUM)  # P2
    change = domain.update(
        incident,
        domain.Update(impact=Impact.MEDIUM, urgency=Urgency.HIGH),  # still P2
        now=at(1),
        actor=ACTOR,
    )
    assert [e.type for e in change.events] == ["UPDATED"]


def test_default_sla_targets() -> None:
    assert DEFAULT_SLA[P.P1] == SlaTarget(timedelta(minutes=5), timedelta(hours=4))
    assert DEFAULT_SLA[P.P5] == SlaTarget(timedelta(days=1), timedelta(days=7))
    seconds = {
        f"p{n}_{k}": n * 10 + (k == "resolve") for n in range(1, 6) for k in ("ack", "resolve")
    }
    targets = sla_targets_from_seconds(seconds)
    assert targets[P.P3] == SlaTarget(timedelta(seconds=30), timedelta(seconds=31))


def test_sla_breach() -> None:
    target = SlaTarget(timedelta(minutes=5), timedelta(hours=1))
    on_time = sla_status(target, at(0), at(5), at(60), now=at(600))
    assert not on_time.acknowledge_breached and not on_time.resolve_breached
    late = sla_status(target, at(0), at(6), None, now=at(61))
    assert late.acknowledge_breached and late.resolve_breached
    pending = sla_status(target, at(0), None, None, now=at(4))
    assert not pending.acknowledge_breached and pending.acknowledge_due == at(5)
