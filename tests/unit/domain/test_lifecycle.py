"""Every cell of the lifecycle transition table, allowed and refused."""

from __future__ import annotations

import pytest

from incident_service.domain import incident as domain
from incident_service.domain import lifecycle
from incident_service.domain.enums import IncidentStatus, PublicStatus, UserErrorCode
from incident_service.domain.errors import DomainError
from tests.unit.helpers import ACTOR, at, in_status

S = IncidentStatus

# Written out by hand from DESIGN.md, independently of lifecycle._build_table:
# rows are the source status, columns the target, in lifecycle order
# TRIGGERED ACKNOWLEDGED INVESTIGATING IDENTIFIED MONITORING RESOLVED CLOSED.
COLUMNS = (
    S.TRIGGERED,
    S.ACKNOWLEDGED,
    S.INVESTIGATING,
    S.IDENTIFIED,
    S.MONITORING,
    S.RESOLVED,
    S.CLOSED,
)
EXPECTED = {  #      TRI ACK INV IDE MON RES CLO
    S.TRIGGERED: "    .   x   x   x   x   x   .",
    S.ACKNOWLEDGED: " .   .   x   x   x   x   .",
    S.INVESTIGATING: ".   .   .   x   x   x   .",
    S.IDENTIFIED: "   .   .   x   .   x   x   .",
    S.MONITORING: "   .   .   x   .   .   x   .",
    S.RESOLVED: "     .   .   x   .   .   .   x",
    S.CLOSED: "       .   .   .   .   .   .   .",
}


def _allowed(source: IncidentStatus, target: IncidentStatus) -> bool:
    marks = EXPECTED[source].split()
    assert len(marks) == 7
    return marks[COLUMNS.index(target)] == "x"


CELLS = [(s, t) for s in S for t in S]


def test_table_covers_every_status() -> None:
    assert set(EXPECTED) == set(S) == set(COLUMNS) == set(lifecycle.TRANSITIONS)
    assert len(CELLS) == 49


@pytest.mark.parametrize(("source", "target"), CELLS, ids=[f"{s}->{t}" for s, t in CELLS])
def test_transition_table_cell(source: IncidentStatus, target: IncidentStatus) -> None:
    assert lifecycle.can_transition(source, target) is _allowed(source, target)


@pytest.mark.parametrize(("source", "target"), CELLS, ids=[f"{s}->{t}" for s, t in CELLS])
def test_transition_command_cell(source: IncidentStatus, target: IncidentStatus) -> None:
    incident = in_status(source)
    if _allowed(source, target):
        change = domain.transition(incident, target, now=at(5), actor=ACTOR)
        assert change.incident.status is target
        assert change.incident.version == incident.version + 1
        (event,) = change.events
        assert event.type == "STATUS_CHANGED"
        assert event.seq == incident.last_seq + 1
        assert event.data == {"from": source.value, "to": target.value}
    else:
        with pytest.raises(DomainError) as caught:
            domain.transition(incident, target, now=at(5), actor=ACTOR)
        assert caught.value.code is UserErrorCode.INVALID_TRANSITION
        assert caught.value.field == ("input", "to")
        assert source.value in caught.value.message and target.value in caught.value.message


def test_closed_is_final_and_triggered_cannot_close() -> None:
    assert lifecycle.TRANSITIONS[S.CLOSED] == frozenset()
    assert not lifecycle.can_transition(S.TRIGGERED, S.CLOSED)
    assert {s for s in S if lifecycle.can_transition(s, S.CLOSED)} == {S.RESOLVED}


def test_refusal_names_the_allowed_targets() -> None:
    with pytest.raises(DomainError) as caught:
        domain.transition(in_status(S.MONITORING), S.IDENTIFIED, now=at(1), actor=ACTOR)
    assert "allowed: INVESTIGATING, RESOLVED" in caught.value.message
    with pytest.raises(DomainError) as caught:
        domain.transition(in_status(S.CLOSED), S.INVESTIGATING, now=at(1), actor=ACTOR)
    assert "allowed: none" in caught.value.message


PUBLIC = {
    S.TRIGGERED: PublicStatus.INVESTIGATING,
    S.ACKNOWLEDGED: PublicStatus.INVESTIGATING,
    S.INVESTIGATING: PublicStatus.INVESTIGATING,
    S.IDENTIFIED: PublicStatus.IDENTIFIED,
    S.MONITORING: PublicStatus.MONITORING,
    S.RESOLVED: PublicStatus.RESOLVED,
    S.CLOSED: PublicStatus.RESOLVED,
}


@pytest.mark.parametrize("status", list(S))
def test_public_status_and_open(status: IncidentStatus) -> None:
    assert lifecycle.public_status(status) is PUBLIC[status]
    assert in_status(status).public_status is PUBLIC[status]
    assert lifecycle.is_open(status) is (status not in (S.RESOLVED, S.CLOSED))
