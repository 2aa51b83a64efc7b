"""Which messages a change makes, and that the public part holds only public text."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from incident_service.domain import incident as inc
from incident_service.domain import notifications as n
from incident_service.domain.enums import (
    ComponentStatus,
    Impact,
    IncidentCategory,
    IncidentStatus,
    MaintenanceStatus,
    Urgency,
    Visibility,
)
from incident_service.domain.maintenance import Maintenance
from incident_service.domain.service import Service

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
SECRET = "INTERNAL-MARKER-7f3a"


def declared() -> inc.Change:
    return inc.declare(
        inc.Declaration(
            title="Checkout down", category=IncidentCategory.OUTAGE, impact=Impact.HIGH,
            urgency=Urgency.HIGH, service_ids=["s1"],
        ),
        id="i1", number=7, now=NOW, actor="alice",
    )  # fmt: skip


def test_declaring_makes_one_declared_message() -> None:
    [message] = n.for_incident(declared())
    assert message.type == n.INCIDENT_DECLARED
    assert message.data["incident"]["key"] == "INC-7"
    assert message.service_ids == ("s1",) and message.public is None


def test_resolving_with_a_public_update_makes_three_messages() -> None:
    incident = declared().incident
    change = inc.transition(
        incident, IncidentStatus.RESOLVED, now=NOW, actor="bob", public_update="All good"
    )
    types = [m.type for m in n.for_incident(change)]
    assert types == [
        n.INCIDENT_STATUS_CHANGED,
        n.INCIDENT_RESOLVED,
        n.INCIDENT_UPDATE_POSTED,
        n.INCIDENT_UPDATED,  # published on the status page
    ]


def test_notes_make_no_message() -> None:
    change = inc.add_note(declared().incident, f"db password is {SECRET}", now=NOW, actor="a")
    assert n.for_incident(change) == []


def test_internal_updates_have_no_public_part_and_public_ones_only_public_text() -> None:
    incident = declared().incident
    internal = inc.post_update(incident, SECRET, Visibility.INTERNAL, now=NOW, actor="a")
    [message] = n.for_incident(internal)
    assert message.data["update"]["visibility"] == "INTERNAL" and message.public is None
    rooted = inc.set_root_cause(internal.incident, SECRET, now=NOW, actor="a").incident
    public = inc.post_update(rooted, "Fixing it", Visibility.PUBLIC, now=NOW, actor="a")
    posted = next(m for m in n.for_incident(public) if m.type == n.INCIDENT_UPDATE_POSTED)
    assert posted.public is not None and posted.public["body"] == "Fixing it"
    assert SECRET not in json.dumps(posted.public)


def service(status: ComponentStatus, public: bool = True) -> Service:
    return Service(
        id="s1", name="API", status=status, created_at=NOW, updated_at=NOW, public=public,
        status_reason=f"INC-7: {SECRET}",
    )  # fmt: skip


def test_component_changes_are_public_only_for_public_components() -> None:
    message = n.for_component(
        service(ComponentStatus.MAJOR_OUTAGE), service(ComponentStatus.OPERATIONAL)
    )
    assert message.type == n.COMPONENT_STATUS_CHANGED
    assert message.public is not None and SECRET not in json.dumps(message.public)
    hidden = n.for_component(
        service(ComponentStatus.MAJOR_OUTAGE, public=False),
        service(ComponentStatus.OPERATIONAL, public=False),
    )
    assert hidden.public is None


def test_maintenance_messages_are_public_only_when_published() -> None:
    window = Maintenance(
        id="m1", title="DB upgrade", service_ids=("s1",), starts_at=NOW,
        ends_at=NOW + timedelta(hours=1), status=MaintenanceStatus.IN_PROGRESS, published=False,
        created_at=NOW, updated_at=NOW, created_by="a",
    )  # fmt: skip
    message = n.for_maintenance(window, "MAINTENANCE_STARTED")
    assert message is not None and message.type == n.MAINTENANCE_STARTED and message.public is None
    assert n.for_maintenance(window, "SOMETHING_ELSE") is None


def test_wanted_filters_by_type_and_service() -> None:
    message = n.Message(n.INCIDENT_DECLARED, NOW, {}, ("s1", "s2"))
    assert n.wanted([n.INCIDENT_DECLARED], [], message)
    assert n.wanted([n.INCIDENT_DECLARED], ["s2"], message)
    assert not n.wanted([n.INCIDENT_DECLARED], ["s3"], message)
    assert not n.wanted([n.INCIDENT_RESOLVED], [], message)
    assert n.wanted([n.INCIDENT_DECLARED], ["s3"], n.Message(n.INCIDENT_DECLARED, NOW, {}))
