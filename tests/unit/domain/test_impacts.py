"""Component impacts are periods: they end when changed, removed or resolved, and resume."""

from __future__ import annotations

from dataclasses import replace

import pytest

from incident_service.domain import impacts
from incident_service.domain import incident as domain
from incident_service.domain.enums import ComponentStatus as C
from incident_service.domain.enums import IncidentStatus, Visibility
from incident_service.domain.errors import DomainError
from incident_service.domain.impacts import ImpactSpec
from tests.unit.helpers import ACTOR, T0, at

A, B = "a" * 24, "b" * 24


def _declared(*specs: ImpactSpec) -> domain.Incident:
    return domain.declare(
        domain.Declaration(title="Payments down", component_impacts=specs),
        id="0" * 24,
        number=7,
        now=T0,
        actor=ACTOR,
    ).incident


def test_declaring_with_impacts_starts_them_and_affects_the_services() -> None:
    incident = _declared(ImpactSpec(A, C.MAJOR_OUTAGE, "Payments"))
    assert impacts.active(incident.component_impacts) == {A: C.MAJOR_OUTAGE}
    assert incident.service_ids == (A,)


@pytest.mark.parametrize("status", [C.OPERATIONAL, C.UNDER_MAINTENANCE])
def test_an_incident_cannot_impose_operational_or_maintenance(status: C) -> None:
    with pytest.raises(DomainError) as err:
        _declared(ImpactSpec(A, status))
    assert err.value.field == ("input", "componentImpacts")


def test_a_component_listed_twice_is_refused() -> None:
    with pytest.raises(DomainError):
        _declared(ImpactSpec(A, C.MAJOR_OUTAGE), ImpactSpec(A, C.PARTIAL_OUTAGE))


def test_updating_ends_changed_and_removed_periods_and_keeps_the_rest() -> None:
    incident = _declared(ImpactSpec(A, C.MAJOR_OUTAGE), ImpactSpec(B, C.PARTIAL_OUTAGE))
    change = domain.update(
        incident,
        domain.Update(component_impacts=[ImpactSpec(A, C.PARTIAL_OUTAGE)]),
        now=at(5),
        actor=ACTOR,
    )
    periods = {(i.service_id, i.status): i for i in change.incident.component_impacts}
    assert periods[(A, C.MAJOR_OUTAGE)].ended_at == at(5)
    assert periods[(B, C.PARTIAL_OUTAGE)].ended_at == at(5)
    assert periods[(A, C.PARTIAL_OUTAGE)].started_at == at(5)
    assert periods[(A, C.PARTIAL_OUTAGE)].ended_at is None
    assert [e.type for e in change.events] == ["IMPACTS_CHANGED"]
    assert impacts.changed_services(
        incident.component_impacts, change.incident.component_impacts
    ) == {A, B}
    same = domain.update(
        change.incident,
        domain.Update(component_impacts=[ImpactSpec(A, C.PARTIAL_OUTAGE)]),
        now=at(6),
        actor=ACTOR,
    )
    assert same.events == ()


def test_resolving_ends_the_impacts_and_reopening_resumes_them() -> None:
    incident = _declared(ImpactSpec(A, C.MAJOR_OUTAGE))
    resolved = domain.transition(incident, IncidentStatus.RESOLVED, now=at(10), actor=ACTOR)
    assert impacts.active(resolved.incident.component_impacts) == {}
    assert resolved.incident.component_impacts[0].ended_at == at(10)
    assert "IMPACTS_ENDED" in [e.type for e in resolved.events]
    reopened = domain.transition(
        resolved.incident, IncidentStatus.INVESTIGATING, now=at(20), actor=ACTOR
    )
    assert impacts.active(reopened.incident.component_impacts) == {A: C.MAJOR_OUTAGE}
    assert [i.started_at for i in reopened.incident.component_impacts] == [T0, at(20)]
    assert "IMPACTS_RESUMED" in [e.type for e in reopened.events]


def test_a_resolved_incident_cannot_take_new_impacts() -> None:
    resolved = domain.transition(
        _declared(), IncidentStatus.RESOLVED, now=at(1), actor=ACTOR
    ).incident
    with pytest.raises(DomainError):
        domain.update(
            resolved,
            domain.Update(component_impacts=[ImpactSpec(A, C.MAJOR_OUTAGE)]),
            now=at(2),
            actor=ACTOR,
        )


def test_a_public_update_with_the_transition_carries_the_new_public_status() -> None:
    incident = replace(_declared(), visibility=Visibility.INTERNAL)
    change = domain.transition(
        incident,
        IncidentStatus.RESOLVED,
        public_update="Resolved: payments work again",
        now=at(3),
        actor=ACTOR,
    )
    posted = [e for e in change.events if e.type == "UPDATE_POSTED"]
    assert len(posted) == 1 and posted[0].visibility is Visibility.PUBLIC
    assert posted[0].data["publicStatus"] == "RESOLVED"
    assert change.incident.visibility is Visibility.PUBLIC
