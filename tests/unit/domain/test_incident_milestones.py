"""Milestone timestamps: stamped on first entry, cleared by back edges, skips handled."""

from __future__ import annotations

from incident_service.domain import incident as domain
from incident_service.domain.enums import IncidentStatus as S
from tests.unit.helpers import ACTOR, T0, at, declared

MILESTONES = (
    "acknowledged_at",
    "identified_at",
    "mitigated_at",
    "resolved_at",
    "closed_at",
)


def walk(incident: domain.Incident, *steps: tuple[S, int]) -> domain.Incident:
    for status, minute in steps:
        incident = domain.transition(incident, status, now=at(minute), actor=ACTOR).incident
    return incident


def stamps(incident: domain.Incident) -> dict[str, object]:
    return {name: getattr(incident, name) for name in MILESTONES}


def test_declare_stamps_declared_and_detected() -> None:
    incident = declared()
    assert incident.status is S.TRIGGERED
    assert incident.declared_at == incident.detected_at == incident.updated_at == T0
    assert incident.impact_started_at is None
    assert all(v is None for v in stamps(incident).values())
    assert incident.version == 1 and incident.last_seq == 1


def test_full_forward_walk_stamps_each_milestone_once() -> None:
    incident = walk(
        declared(),
        (S.ACKNOWLEDGED, 1),
        (S.INVESTIGATING, 2),
        (S.IDENTIFIED, 3),
        (S.MONITORING, 4),
        (S.RESOLVED, 5),
        (S.CLOSED, 6),
    )
    assert stamps(incident) == {
        "acknowledged_at": at(1),
        "identified_at": at(3),
        "mitigated_at": at(4),
        "resolved_at": at(5),
        "closed_at": at(6),
    }
    assert incident.version == 7 and incident.last_seq == 7
    assert incident.updated_at == at(6)


def test_self_clearing_alert_is_never_acknowledged() -> None:
    incident = walk(declared(), (S.RESOLVED, 3))
    assert stamps(incident) == {
        "acknowledged_at": None,
        "identified_at": None,
        "mitigated_at": None,
        "resolved_at": at(3),
        "closed_at": None,
    }


def test_skipping_into_work_implies_acknowledgement() -> None:
    for target in (S.INVESTIGATING, S.IDENTIFIED, S.MONITORING):
        incident = walk(declared(), (target, 2))
        assert incident.acknowledged_at == at(2), target


def test_skip_to_monitoring_stamps_mitigated_but_not_identified() -> None:
    incident = walk(declared(), (S.MONITORING, 2))
    assert incident.mitigated_at == at(2)
    assert incident.identified_at is None


def test_acknowledged_at_keeps_the_first_time() -> None:
    incident = walk(declared(), (S.ACKNOWLEDGED, 1), (S.INVESTIGATING, 2))
    assert incident.acknowledged_at == at(1)


def test_back_edge_from_monitoring_clears_later_milestones() -> None:
    incident = walk(declared(), (S.ACKNOWLEDGED, 1), (S.IDENTIFIED, 2), (S.MONITORING, 3))
    back = walk(incident, (S.INVESTIGATING, 4))
    assert back.status is S.INVESTIGATING
    assert back.acknowledged_at == at(1)
    assert back.identified_at is None and back.mitigated_at is None
    again = walk(back, (S.IDENTIFIED, 5), (S.MONITORING, 6))
    assert again.identified_at == at(5) and again.mitigated_at == at(6)


def test_back_edge_from_identified() -> None:
    incident = walk(declared(), (S.IDENTIFIED, 2), (S.INVESTIGATING, 3))
    assert incident.identified_at is None and incident.acknowledged_at == at(2)


def test_reopen_clears_resolution_milestones_and_restamps() -> None:
    incident = walk(declared(), (S.ACKNOWLEDGED, 1), (S.MONITORING, 2), (S.RESOLVED, 3))
    reopened = walk(incident, (S.INVESTIGATING, 4))
    assert reopened.resolved_at is None and reopened.mitigated_at is None
    assert reopened.acknowledged_at == at(1)
    resolved = walk(reopened, (S.RESOLVED, 9))
    assert resolved.resolved_at == at(9)


def test_resolution_only_with_resolved() -> None:
    incident = declared()
    change = domain.transition(
        incident, S.RESOLVED, now=at(1), actor=ACTOR, resolution="Rolled back", note="done"
    )
    assert change.incident.resolution == "Rolled back"
    assert [e.type for e in change.events] == ["STATUS_CHANGED", "RESOLUTION_SET"]
    assert [e.seq for e in change.events] == [2, 3]
    assert change.events[0].message == "done"
    assert change.incident.version == 2  # one command, one version, however many events


def test_timeline_seq_continues_without_gaps() -> None:
    incident = declared()
    seqs = [1]
    for minute, status in enumerate((S.ACKNOWLEDGED, S.INVESTIGATING, S.RESOLVED), start=1):
        change = domain.transition(incident, status, now=at(minute), actor=ACTOR, resolution=None)
        seqs += [e.seq for e in change.events]
        incident = change.incident
        change = domain.add_note(incident, f"note {minute}", now=at(minute), actor=ACTOR)
        seqs += [e.seq for e in change.events]
        incident = change.incident
    assert seqs == list(range(1, len(seqs) + 1))
    assert incident.last_seq == len(seqs)
