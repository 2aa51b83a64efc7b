"""Who sees a restricted incident, who may restrict or lift it, and participants."""

from __future__ import annotations

from dataclasses import replace

import pytest

from incident_service.domain import incident as domain
from incident_service.domain import restriction
from incident_service.domain.enums import IncidentRole, Visibility
from incident_service.domain.errors import DomainError
from incident_service.domain.incident import RoleAssignment
from incident_service.domain.principal import Principal, Role
from tests.unit.helpers import ACTOR, at, declared

ADMIN = Principal("admin", Role.ADMIN, "api_key", subject="admin")
ALICE = Principal("alice", Role.RESPONDER, "api_key", subject="alice")
BOB = Principal("bob", Role.VIEWER, "user", subject="idp/bob")


def restricted() -> domain.Incident:
    return replace(declared(), restricted=True)


def test_who_sees_a_restricted_incident() -> None:
    incident = restricted()
    assert restriction.can_see(declared(), BOB)  # not restricted: everyone signed in
    assert restriction.can_see(incident, ADMIN)
    assert not restriction.can_see(incident, ALICE) and not restriction.can_see(incident, BOB)
    assert restriction.can_see(replace(incident, declared_by="key:alice"), ALICE)
    holder = replace(incident, roles=(RoleAssignment(IncidentRole.SCRIBE, "oidc:idp/bob", at(1)),))
    assert restriction.can_see(holder, BOB)
    added = restriction.add_participant(incident, "key:alice", now=at(1), actor=ACTOR).incident
    assert restriction.can_see(added, ALICE)
    removed = restriction.remove_participant(added, "key:alice", now=at(2), actor=ACTOR)
    assert not restriction.can_see(removed.incident, ALICE)


def test_restricting_and_lifting() -> None:
    commander = replace(
        declared(), roles=(RoleAssignment(IncidentRole.COMMANDER, "key:alice", at(1)),)
    )
    change = restriction.set_restricted(commander, True, ALICE, now=at(2))
    assert change.incident.restricted and [e.type for e in change.events] == ["RESTRICTED"]
    with pytest.raises(DomainError):  # only ADMIN lifts
        restriction.set_restricted(change.incident, False, ALICE, now=at(3))
    with pytest.raises(DomainError):  # not the commander
        restriction.set_restricted(declared(), True, ALICE, now=at(3))
    lifted = restriction.set_restricted(change.incident, False, ADMIN, now=at(3))
    assert not lifted.incident.restricted
    assert [e.type for e in lifted.events] == ["RESTRICTION_LIFTED"]


@pytest.mark.parametrize("actor", ["", " ", "two words", "integration:grafana", "x" * 201])
def test_a_participant_must_be_an_actor_id(actor: str) -> None:
    with pytest.raises(DomainError) as refused:
        restriction.add_participant(restricted(), actor, now=at(1), actor=ACTOR)
    assert refused.value.field == ("input", "actor")


def test_a_restricted_incident_cannot_be_published() -> None:
    with pytest.raises(DomainError) as refused:
        domain.post_update(restricted(), "x", Visibility.PUBLIC, now=at(1), actor=ACTOR)
    assert refused.value.field == ("input", "visibility")
    with pytest.raises(DomainError):
        domain.declare(
            domain.Declaration(title="x", visibility=Visibility.PUBLIC, restricted=True),
            id="1" * 24, number=1, now=at(0), actor=ACTOR,
        )  # fmt: skip
    internal = domain.post_update(restricted(), "x", Visibility.INTERNAL, now=at(1), actor=ACTOR)
    assert internal.events[-1].visibility is Visibility.INTERNAL
