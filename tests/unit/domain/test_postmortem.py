"""The postmortem: its review workflow, its version guard, its timeline, the closing policy."""

from __future__ import annotations

from dataclasses import replace

import pytest

from incident_service.domain import incident as incidents
from incident_service.domain import postmortem as domain
from incident_service.domain.enums import (
    Impact,
    IncidentStatus,
    Priority,
    Urgency,
    UserErrorCode,
)
from incident_service.domain.errors import DomainError
from incident_service.domain.postmortem import Draft, PostmortemStatus
from tests.unit.helpers import ACTOR, at, declared

P1_P2 = frozenset({Priority.P1, Priority.P2})


def closed_p1() -> incidents.Incident:
    incident = declared(impact=Impact.HIGH, urgency=Urgency.HIGH)
    return replace(incident, status=IncidentStatus.CLOSED, root_cause="A bad deploy")


def written(draft: Draft | None = None) -> domain.Postmortem:
    change = domain.upsert(
        None, closed_p1(), draft or Draft(), expected_version=0, now=at(1), actor=ACTOR
    )
    return change.postmortem


def test_the_first_write_creates_a_draft_on_a_closed_incident_without_touching_it() -> None:
    incident = closed_p1()
    change = domain.upsert(
        None,
        incident,
        Draft(summary=" Checkout failed "),
        expected_version=0,
        now=at(1),
        actor="ann",
    )
    pm = change.postmortem
    assert (pm.status, pm.version, pm.author, pm.summary) == (
        PostmortemStatus.DRAFT,
        1,
        "ann",
        "Checkout failed",
    )
    (event,) = change.events
    assert (event.type, event.seq, event.data["fields"]) == (
        "POSTMORTEM_UPDATED",
        incident.last_seq + 1,
        ["summary"],
    )
    assert domain.root_cause_of(pm, incident) == "A bad deploy"


def test_a_stale_version_is_a_conflict_and_the_same_fields_write_nothing() -> None:
    pm = written(Draft(summary="S"))
    with pytest.raises(DomainError) as err:
        domain.upsert(
            pm, closed_p1(), Draft(lessons="L"), expected_version=0, now=at(2), actor=ACTOR
        )
    assert err.value.code is UserErrorCode.CONFLICT
    assert err.value.field == ("input", "expectedVersion")
    same = domain.upsert(
        pm, closed_p1(), Draft(summary="S"), expected_version=1, now=at(2), actor=ACTOR
    )
    assert same.postmortem is pm and same.events == ()


def test_fields_are_validated_and_blank_text_clears() -> None:
    pm = written(Draft(summary="S", lessons="L", contributing_factors=["a", " a ", "b", ""]))
    assert pm.contributing_factors == ("a", "b")
    cleared = domain.upsert(
        pm, closed_p1(), Draft(lessons=" "), expected_version=1, now=at(2), actor=ACTOR
    )
    assert cleared.postmortem.lessons is None and cleared.postmortem.version == 2
    for draft, field in (
        (Draft(timeline_seqs=[99]), "timelineSeqs"),
        (Draft(reviewers=[""]), "reviewers"),
        (Draft(summary="x" * 20_001), "summary"),
        (Draft(contributing_factors=["f"] * 51), "contributingFactors"),
    ):
        with pytest.raises(DomainError) as err:
            domain.upsert(pm, closed_p1(), draft, expected_version=1, now=at(2), actor=ACTOR)
        assert err.value.field == ("input", field)


def test_review_workflow_draft_review_published() -> None:
    incident = closed_p1()
    pm = written(Draft(summary="S", reviewers=["bob"]))
    with pytest.raises(DomainError) as err:
        domain.publish(pm, incident, True, now=at(2), actor=ACTOR)
    assert err.value.code is UserErrorCode.INVALID_TRANSITION
    submitted = domain.submit(pm, incident, now=at(2), actor=ACTOR)
    assert submitted.postmortem.status is PostmortemStatus.IN_REVIEW
    assert submitted.events[0].message == "Postmortem submitted for review (reviewers: bob)"
    with pytest.raises(DomainError):
        domain.submit(submitted.postmortem, incident, now=at(3), actor=ACTOR)
    published = domain.publish(submitted.postmortem, incident, True, now=at(3), actor="carol")
    pm3 = published.postmortem
    assert (pm3.status, pm3.public, pm3.published_at, pm3.published_by, pm3.version) == (
        PostmortemStatus.PUBLISHED,
        True,
        at(3),
        "carol",
        3,
    )
    assert published.events[0].type == "POSTMORTEM_PUBLISHED"
    assert domain.publish(pm3, incident, True, now=at(4), actor=ACTOR).events == ()
    hidden = domain.publish(pm3, incident, False, now=at(4), actor=ACTOR).postmortem
    assert not hidden.public and hidden.status is PostmortemStatus.PUBLISHED
    with pytest.raises(DomainError) as err:
        domain.upsert(pm3, incident, Draft(summary=""), expected_version=3, now=at(5), actor=ACTOR)
    assert err.value.field == ("input", "summary")


def test_publishing_needs_a_summary_and_a_postmortem() -> None:
    incident = closed_p1()
    pm = domain.submit(written(Draft(lessons="L")), incident, now=at(2), actor=ACTOR).postmortem
    with pytest.raises(DomainError) as err:
        domain.publish(pm, incident, False, now=at(3), actor=ACTOR)
    assert (err.value.code, err.value.field) == (
        UserErrorCode.VALIDATION,
        ("postmortem", "summary"),
    )
    with pytest.raises(DomainError) as missing:
        domain.submit(None, incident, now=at(3), actor=ACTOR)
    assert missing.value.code is UserErrorCode.NOT_FOUND


@pytest.mark.parametrize(
    ("impact", "urgency", "published", "refused"),
    [
        (Impact.HIGH, Urgency.HIGH, False, True),  # P1
        (Impact.HIGH, Urgency.MEDIUM, False, True),  # P2
        (Impact.HIGH, Urgency.HIGH, True, False),
        (Impact.MEDIUM, Urgency.MEDIUM, False, False),  # P3
    ],
)
def test_the_closing_policy(
    impact: Impact, urgency: Urgency, published: bool, refused: bool
) -> None:
    incident = replace(declared(impact=impact, urgency=urgency), status=IncidentStatus.RESOLVED)
    check = lambda: domain.require_for_close(incident, IncidentStatus.CLOSED, published, P1_P2)  # noqa: E731
    if refused:
        with pytest.raises(DomainError) as err:
            check()
        assert err.value.code is UserErrorCode.POSTMORTEM_REQUIRED
        assert err.value.field == ("input", "to")
    else:
        check()
    domain.require_for_close(incident, IncidentStatus.INVESTIGATING, False, P1_P2)
    domain.require_for_close(incident, IncidentStatus.CLOSED, False, frozenset())


def test_timeline_is_the_key_milestones_or_the_picked_events() -> None:
    incident = declared()
    noted = incidents.add_note(incident, "internal chatter", now=at(1), actor=ACTOR)
    moved = incidents.transition(noted.incident, IncidentStatus.RESOLVED, now=at(2), actor=ACTOR)
    events = [
        *incidents.declare(
            incidents.Declaration(title="x"), id="0" * 24, number=7, now=at(0), actor=ACTOR
        ).events,
        *noted.events,
        *moved.events,
    ]
    assert [e.type for e in domain.timeline(None, events)] == ["DECLARED", "STATUS_CHANGED"]
    pm = replace(written(), timeline_seqs=(2,))
    assert [e.message for e in domain.timeline(pm, events)] == ["internal chatter"]
