"""Major incidents: one level of children, resolution rules, the parent's events."""

from __future__ import annotations

from dataclasses import replace

import pytest

from incident_service.domain import major
from incident_service.domain.enums import IncidentStatus, LinkKind, UserErrorCode
from incident_service.domain.errors import DomainError
from incident_service.domain.incident import Incident
from tests.unit.helpers import ACTOR, at, declared


def incident(n: int, title: str = "Site down") -> Incident:
    return replace(declared(title), id=f"{n:024d}", number=n)


def adopted() -> tuple[Incident, Incident]:
    parent_change, child_change = major.adopt(
        incident(1, "Flood"), incident(2, "Paris down"), now=at(1), actor=ACTOR
    )
    return parent_change.incident, child_change.incident


def test_adopting_changes_both_sides_with_an_event_each() -> None:
    parent_change, child_change = major.adopt(
        incident(1, "Flood"), incident(2), now=at(1), actor=ACTOR
    )
    assert major.children_ids(parent_change.incident) == [incident(2).id]
    assert child_change.incident.parent_id == incident(1).id
    assert [e.type for e in parent_change.events] == ["INCIDENT_LINKED"]
    assert parent_change.events[0].data["kind"] == LinkKind.PARENT_OF.value
    assert [e.type for e in child_change.events] == ["PARENT_LINKED"]


def test_adopting_twice_changes_nothing() -> None:
    parent, child = adopted()
    again = major.adopt(parent, child, now=at(2), actor=ACTOR)
    assert again[0].events == () and again[1].events == ()


def test_major_incidents_are_one_level_deep() -> None:
    parent, child = adopted()
    cases = [
        (lambda: major.adopt(child, incident(3), now=at(2), actor=ACTOR), "id"),
        (lambda: major.adopt(incident(3), parent, now=at(2), actor=ACTOR), "relatedId"),
        (lambda: major.adopt(incident(3), child, now=at(2), actor=ACTOR), "relatedId"),
        (lambda: major.adopt(parent, parent, now=at(2), actor=ACTOR), "relatedId"),
    ]
    for call, field in cases:
        with pytest.raises(DomainError) as refused:
            call()
        assert refused.value.field == ("input", field)
        assert refused.value.code is UserErrorCode.VALIDATION


def test_a_parent_resolves_only_when_every_child_is_resolved() -> None:
    parent, child = adopted()
    with pytest.raises(DomainError) as refused:
        major.require_children_resolved(parent, [child], IncidentStatus.RESOLVED)
    assert refused.value.code is UserErrorCode.CHILDREN_OPEN
    assert child.key in refused.value.message
    major.require_children_resolved(parent, [child], IncidentStatus.MONITORING)
    resolved = replace(child, status=IncidentStatus.RESOLVED)
    major.require_children_resolved(parent, [resolved], IncidentStatus.RESOLVED)


def test_a_childs_resolution_is_an_event_on_the_parent_without_a_new_version() -> None:
    parent, child = adopted()
    change = major.child_resolved(parent, child, now=at(5), actor=ACTOR)
    [event] = change.events
    assert (event.type, event.data["key"]) == ("CHILD_RESOLVED", child.key)
    assert change.incident.version == parent.version
