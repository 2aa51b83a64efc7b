"""The public status page builder: public data only, worst status wins."""

from __future__ import annotations

from dataclasses import replace

from incident_service.domain import incident as domain
from incident_service.domain import status_page
from incident_service.domain.enums import ComponentStatus, IncidentStatus, PublicStatus, Visibility
from incident_service.domain.postmortem import Postmortem, PostmortemStatus
from incident_service.domain.service import Service
from tests.unit.helpers import ACTOR, T0, at, declared


def _service(id_: str, name: str, status: ComponentStatus, minutes: int = 0) -> Service:
    return Service(id=id_, name=name, status=status, created_at=T0, updated_at=at(minutes))


def _published() -> tuple[domain.Incident, list[domain.Event]]:
    """An incident with a note, an internal update and two public updates."""
    incident = replace(declared(), service_ids=("s1",))
    events: list[domain.Event] = []
    steps = [
        lambda i: domain.add_note(i, "internal note", now=at(1), actor=ACTOR),
        lambda i: domain.post_update(i, "internal", Visibility.INTERNAL, now=at(2), actor=ACTOR),
        lambda i: domain.post_update(i, "first", Visibility.PUBLIC, now=at(3), actor=ACTOR),
        lambda i: domain.transition(i, IncidentStatus.IDENTIFIED, now=at(4), actor=ACTOR),
        lambda i: domain.post_update(i, "second", Visibility.PUBLIC, now=at(5), actor=ACTOR),
        lambda i: domain.add_note(i, "later note", now=at(9), actor=ACTOR),
    ]
    for step in steps:
        change = step(incident)
        incident = change.incident
        events.extend(change.events)
    return incident, events


def test_only_public_updates_newest_first_with_their_public_status() -> None:
    incident, events = _published()
    page = status_page.build(
        [_service("s1", "API", ComponentStatus.OPERATIONAL)], [incident], events, now=at(10)
    )
    (shown,) = page.active_incidents
    assert [(u.body, u.public_status) for u in shown.updates] == [
        ("second", PublicStatus.IDENTIFIED),
        ("first", PublicStatus.INVESTIGATING),
    ]
    assert shown.public_status is PublicStatus.IDENTIFIED
    assert [c.name for c in shown.components] == ["API"]
    # The later internal note does not move the public updatedAt.
    assert shown.updated_at == at(5)


def test_internal_and_resolved_incidents_are_not_shown() -> None:
    incident, events = _published()
    internal = replace(incident, id="1" * 24, number=8, visibility=Visibility.INTERNAL)
    resolved = replace(incident, id="2" * 24, number=9, status=IncidentStatus.RESOLVED)
    page = status_page.build([], [internal, resolved], events, now=at(10))
    assert page.active_incidents == ()


def test_overall_status_is_the_worst_and_components_are_sorted() -> None:
    services = [
        _service("a", "web", ComponentStatus.UNDER_MAINTENANCE, 3),
        _service("b", "API", ComponentStatus.DEGRADED_PERFORMANCE, 7),
        _service("c", "db", ComponentStatus.OPERATIONAL, 1),
    ]
    page = status_page.build(services, [], [], now=at(60))
    assert page.overall_status is ComponentStatus.DEGRADED_PERFORMANCE
    assert [c.name for c in page.components] == ["API", "db", "web"]
    assert page.updated_at == at(7)


def test_an_empty_page_is_operational() -> None:
    page = status_page.build([], [], [], now=at(1))
    assert page.overall_status is ComponentStatus.OPERATIONAL
    assert page.updated_at == at(1)


def test_public_types_carry_no_internal_field() -> None:
    internal = {"labels", "roles", "root_cause", "notes", "visibility", "actor", "description"}
    for cls in (status_page.PublicIncident, status_page.PublicUpdate, status_page.StatusPage):
        assert not internal & set(cls.__dataclass_fields__), cls


def test_the_monitoring_milestone_is_public() -> None:
    incident, events = _published()
    change = domain.transition(incident, IncidentStatus.MONITORING, now=at(7), actor=ACTOR)
    page = status_page.build(
        [_service("s1", "API", ComponentStatus.OPERATIONAL)],
        [change.incident],
        [*events, *change.events],
        now=at(10),
    )
    (shown,) = page.active_incidents
    assert shown.monitoring_at == at(7)


def _reviewed(public: bool, status: PostmortemStatus = PostmortemStatus.PUBLISHED) -> Postmortem:
    return Postmortem(
        incident_id="0" * 24,
        status=status,
        author=ACTOR,
        created_at=at(20),
        updated_at=at(30),
        summary="What happened",
        customer_impact="What you saw",
        resolution="How we fixed it",
        root_cause="INTERNAL root cause",
        lessons="INTERNAL lessons",
        public=public,
        published_at=at(30),
    )


def test_a_public_postmortem_shows_its_public_fields_once_resolved() -> None:
    incident, events = _published()
    services = [_service("s1", "API", ComponentStatus.OPERATIONAL)]
    resolved = domain.transition(incident, IncidentStatus.RESOLVED, now=at(10), actor=ACTOR)
    page = status_page.build(
        services,
        [resolved.incident],
        [*events, *resolved.events],
        now=at(40),
        postmortems={incident.id: _reviewed(public=True)},
    )
    (shown,) = page.recent_incidents
    assert shown.postmortem == status_page.PublicPostmortem(
        "What happened", "What you saw", "How we fixed it", at(30)
    )
    assert shown.updated_at == at(30)
    assert set(status_page.PublicPostmortem.__dataclass_fields__) == {
        "summary",
        "customer_impact",
        "resolution",
        "published_at",
    }
    # Internal, not yet published, or of an incident still open: not shown.
    for postmortem, subject in (
        (_reviewed(public=False), resolved.incident),
        (_reviewed(public=True, status=PostmortemStatus.IN_REVIEW), resolved.incident),
        (_reviewed(public=True), incident),
    ):
        shown_incident = status_page.public_incident(subject, {}, events, postmortem)
        assert shown_incident.postmortem is None
