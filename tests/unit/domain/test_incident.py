"""The other incident commands: notes, updates, roles, root cause, links, CLOSED."""

from __future__ import annotations

from dataclasses import replace

import pytest

from incident_service.domain import incident as domain
from incident_service.domain.enums import (
    IncidentRole,
    IncidentStatus,
    LinkKind,
    UserErrorCode,
    Visibility,
)
from incident_service.domain.errors import DomainError
from tests.unit.helpers import ACTOR, at, declared


def test_declared_event() -> None:
    change = domain.declare(
        domain.Declaration(title="API slow", service_ids=["a", "b", "a"], labels=["x", "x"]),
        id="2" * 24,
        number=42,
        now=at(0),
        actor=ACTOR,
    )
    assert change.incident.key == "INC-42"
    assert change.incident.service_ids == ("a", "b") and change.incident.labels == ("x",)
    (event,) = change.events
    assert (event.seq, event.type, event.actor) == (1, "DECLARED", ACTOR)
    assert event.visibility is Visibility.INTERNAL


def test_public_update_publishes_once() -> None:
    incident = declared()
    first = domain.post_update(incident, "Looking", Visibility.PUBLIC, now=at(1), actor=ACTOR)
    assert first.incident.visibility is Visibility.PUBLIC
    assert [e.type for e in first.events] == ["PUBLISHED", "UPDATE_POSTED"]
    assert first.events[1].visibility is Visibility.PUBLIC
    second = domain.post_update(
        first.incident, "Still looking", Visibility.PUBLIC, now=at(2), actor=ACTOR
    )
    assert [e.type for e in second.events] == ["UPDATE_POSTED"]


def test_internal_update_stays_internal() -> None:
    change = domain.post_update(declared(), "fyi", Visibility.INTERNAL, now=at(1), actor=ACTOR)
    assert change.incident.visibility is Visibility.INTERNAL
    assert change.events[0].visibility is Visibility.INTERNAL


def test_single_holder_role_is_replaced_responders_accumulate() -> None:
    incident = declared()
    for user in ("ann", "bob"):
        incident = domain.assign_role(
            incident, IncidentRole.COMMANDER, user, now=at(1), actor=ACTOR
        ).incident
    for user in ("cy", "di"):
        incident = domain.assign_role(
            incident, IncidentRole.RESPONDER, user, now=at(2), actor=ACTOR
        ).incident
    assert [(r.role, r.user) for r in incident.roles] == [
        (IncidentRole.COMMANDER, "bob"),
        (IncidentRole.RESPONDER, "cy"),
        (IncidentRole.RESPONDER, "di"),
    ]
    same = domain.assign_role(incident, IncidentRole.RESPONDER, "cy", now=at(3), actor=ACTOR)
    assert same.events == ()


def test_unassign_unknown_holder() -> None:
    with pytest.raises(DomainError) as caught:
        domain.unassign_role(declared(), IncidentRole.SCRIBE, "zed", now=at(1), actor=ACTOR)
    assert caught.value.code is UserErrorCode.NOT_FOUND


def test_root_cause() -> None:
    change = domain.set_root_cause(declared(), "expired cert", now=at(1), actor=ACTOR)
    assert change.incident.root_cause == "expired cert"
    again = domain.set_root_cause(change.incident, "expired cert", now=at(2), actor=ACTOR)
    assert again.events == ()


def test_links() -> None:
    a = declared()
    b = replace(declared(), id="b" * 24, number=8)
    c = replace(declared(), id="c" * 24, number=9)
    with pytest.raises(DomainError) as caught:
        domain.link(a, a, LinkKind.RELATED, now=at(1), actor=ACTOR)
    assert caught.value.code is UserErrorCode.VALIDATION
    dup = domain.link(a, b, LinkKind.DUPLICATE_OF, now=at(1), actor=ACTOR).incident
    assert dup.links[0].incident_id == b.id
    with pytest.raises(DomainError):
        domain.link(dup, c, LinkKind.DUPLICATE_OF, now=at(2), actor=ACTOR)
    related = domain.link(dup, c, LinkKind.RELATED, now=at(2), actor=ACTOR)
    assert len(related.incident.links) == 2
    assert related.events[0].data["key"] == "INC-9"


def _closed() -> domain.Incident:
    return replace(declared(), status=IncidentStatus.CLOSED)


@pytest.mark.parametrize(
    "command",
    [
        lambda i: domain.update(i, domain.Update(title="new"), now=at(1), actor=ACTOR),
        lambda i: domain.add_note(i, "n", now=at(1), actor=ACTOR),
        lambda i: domain.post_update(i, "u", Visibility.PUBLIC, now=at(1), actor=ACTOR),
        lambda i: domain.assign_role(i, IncidentRole.SCRIBE, "x", now=at(1), actor=ACTOR),
        lambda i: domain.set_root_cause(i, "rc", now=at(1), actor=ACTOR),
        lambda i: domain.link(i, declared(), LinkKind.RELATED, now=at(1), actor=ACTOR),
    ],
    ids=["update", "note", "post_update", "assign_role", "root_cause", "link"],
)
def test_closed_incident_refuses_every_change(command: object) -> None:
    with pytest.raises(DomainError) as caught:
        command(_closed())  # type: ignore[operator]
    assert caught.value.code is UserErrorCode.INVALID_TRANSITION


def test_responders_and_links_are_bounded() -> None:
    incident = declared()
    for n in range(domain.ROLES_MAX):
        incident = domain.assign_role(
            incident, IncidentRole.RESPONDER, f"user{n}", now=at(1), actor=ACTOR
        ).incident
    with pytest.raises(DomainError) as caught:
        domain.assign_role(incident, IncidentRole.RESPONDER, "one-more", now=at(2), actor=ACTOR)
    assert caught.value.code is UserErrorCode.VALIDATION and caught.value.field == ("input", "user")
    for n in range(domain.LINKS_MAX):
        other = replace(declared(), id=f"e{n:023x}", number=100 + n)
        incident = domain.link(incident, other, LinkKind.RELATED, now=at(3), actor=ACTOR).incident
    last = replace(declared(), id="f" * 24, number=999)
    with pytest.raises(DomainError) as caught:
        domain.link(incident, last, LinkKind.RELATED, now=at(4), actor=ACTOR)
    assert caught.value.code is UserErrorCode.VALIDATION
