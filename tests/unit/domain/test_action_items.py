"""Action items: added to any incident, updated under their version, each change on the timeline."""

from __future__ import annotations

from dataclasses import replace

import pytest

from incident_service.domain import action_items as domain
from incident_service.domain.action_items import ActionItemStatus, ActionItemUpdate, NewActionItem
from incident_service.domain.enums import IncidentStatus, Priority, UserErrorCode
from incident_service.domain.errors import DomainError
from tests.unit.helpers import ACTOR, at, declared


def closed() -> domain.Incident:
    return replace(declared(), status=IncidentStatus.CLOSED)


def added() -> domain.ActionItem:
    cmd = NewActionItem(title=" Add a canary ", owner="dana", due_at=at(60), priority=Priority.P2)
    return domain.add(cmd, closed(), id="a" * 24, now=at(1), actor=ACTOR).item


def test_adding_to_a_closed_incident_records_an_event() -> None:
    incident = closed()
    cmd = NewActionItem(title="Add a canary", owner="dana", url="https://tickets.example/OPS-1")
    change = domain.add(cmd, incident, id="a" * 24, now=at(1), actor=ACTOR)
    assert (change.item.status, change.item.version, change.item.priority) == (
        ActionItemStatus.OPEN,
        1,
        Priority.P3,
    )
    (event,) = change.events
    assert (event.type, event.seq, event.data["owner"]) == (
        "ACTION_ITEM_ADDED",
        incident.last_seq + 1,
        "dana",
    )


@pytest.mark.parametrize(
    ("cmd", "field"),
    [
        (NewActionItem(title=" ", owner="dana"), "title"),
        (NewActionItem(title="t", owner=""), "owner"),
        (NewActionItem(title="t", owner="o", url="javascript:alert(1)"), "url"),
    ],
)
def test_bad_input_names_the_field(cmd: NewActionItem, field: str) -> None:
    with pytest.raises(DomainError) as err:
        domain.add(cmd, closed(), id="a" * 24, now=at(1), actor=ACTOR)
    assert (err.value.code, err.value.field) == (UserErrorCode.VALIDATION, ("input", field))


def test_updates_are_guarded_and_done_completes() -> None:
    item = added()
    assert item.title == "Add a canary" and item.overdue(at(61)) and not item.overdue(at(59))
    with pytest.raises(DomainError) as err:
        domain.update(
            item,
            ActionItemUpdate(owner="eve"),
            closed(),
            expected_version=0,
            now=at(2),
            actor=ACTOR,
        )
    assert err.value.code is UserErrorCode.CONFLICT
    same = domain.update(
        item, ActionItemUpdate(owner="dana"), closed(), expected_version=1, now=at(2), actor=ACTOR
    )
    assert same.events == () and same.item is item
    moved = domain.update(
        item,
        ActionItemUpdate(owner="eve", status=ActionItemStatus.IN_PROGRESS),
        closed(),
        expected_version=1,
        now=at(2),
        actor=ACTOR,
    )
    assert moved.events[0].type == "ACTION_ITEM_UPDATED"
    assert moved.events[0].data["fields"] == {"owner": "eve", "status": "IN_PROGRESS"}
    done = domain.update(
        moved.item,
        ActionItemUpdate(status=ActionItemStatus.DONE),
        closed(),
        expected_version=2,
        now=at(90),
        actor=ACTOR,
    )
    assert done.events[0].type == "ACTION_ITEM_COMPLETED"
    assert done.item.completed_at == at(90) and not done.item.overdue(at(120))
    reopened = domain.update(
        done.item,
        ActionItemUpdate(status=ActionItemStatus.OPEN),
        closed(),
        expected_version=3,
        now=at(91),
        actor=ACTOR,
    )
    assert reopened.item.completed_at is None
