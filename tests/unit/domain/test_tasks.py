"""An incident's task checklist: adding, ticking, reordering, and what is refused."""

from __future__ import annotations

from dataclasses import replace

import pytest

from incident_service.domain import tasks
from incident_service.domain.enums import IncidentStatus, TaskStatus, UserErrorCode
from incident_service.domain.errors import DomainError
from incident_service.domain.incident import Incident
from tests.unit.helpers import ACTOR, at, declared


def with_tasks(*titles: str) -> Incident:
    specs = [(f"t{n}", tasks.TaskSpec(title)) for n, title in enumerate(titles, start=1)]
    return tasks.add_tasks(declared(), specs, now=at(1), actor=ACTOR).incident


def test_added_tasks_are_todo_in_order_with_one_event_each() -> None:
    change = tasks.add_tasks(
        declared(),
        [("t1", tasks.TaskSpec("Isolate hosts")), ("t2", tasks.TaskSpec(" Preserve evidence "))],
        now=at(1),
        actor=ACTOR,
    )
    assert [(t.title, t.order, t.status) for t in change.incident.tasks] == [
        ("Isolate hosts", 1, TaskStatus.TODO),
        ("Preserve evidence", 2, TaskStatus.TODO),
    ]
    assert [e.type for e in change.events] == ["TASK_ADDED", "TASK_ADDED"]
    assert change.incident.version == declared().version + 1
    more = tasks.add_tasks(
        change.incident, [("t3", tasks.TaskSpec("Restore"))], now=at(2), actor=ACTOR
    )
    assert [t.order for t in more.incident.tasks] == [1, 2, 3]


def test_done_records_who_and_when_and_reopening_clears_it() -> None:
    incident = with_tasks("Isolate hosts")
    done = tasks.update_task(
        incident, "t1", tasks.TaskEdit(status=TaskStatus.DONE), now=at(5), actor="key:sre"
    )
    [task] = done.incident.tasks
    assert (task.status, task.done_at, task.done_by) == (TaskStatus.DONE, at(5), "key:sre")
    assert [e.type for e in done.events] == ["TASK_COMPLETED"]
    reopened = tasks.update_task(
        done.incident, "t1", tasks.TaskEdit(status=TaskStatus.TODO), now=at(6), actor=ACTOR
    )
    [task] = reopened.incident.tasks
    assert (task.status, task.done_at, task.done_by) == (TaskStatus.TODO, None, None)
    assert [e.type for e in reopened.events] == ["TASK_REOPENED"]


def test_editing_fields_is_one_update_event_and_clearing_works() -> None:
    incident = with_tasks("Isolate hosts")
    edit = tasks.TaskEdit(title="Isolate the hosts", assignee="alice", due_at=at(60))
    change = tasks.update_task(incident, "t1", edit, now=at(2), actor=ACTOR)
    [task] = change.incident.tasks
    assert (task.title, task.assignee, task.due_at) == ("Isolate the hosts", "alice", at(60))
    assert [e.type for e in change.events] == ["TASK_UPDATED"]
    cleared = tasks.update_task(
        change.incident,
        "t1",
        tasks.TaskEdit(clear_assignee=True, clear_due_at=True),
        now=at(3),
        actor=ACTOR,
    )
    [task] = cleared.incident.tasks
    assert (task.assignee, task.due_at) == (None, None)


def test_an_update_that_changes_nothing_writes_nothing() -> None:
    incident = with_tasks("Isolate hosts")
    change = tasks.update_task(
        incident, "t1", tasks.TaskEdit(status=TaskStatus.TODO), now=at(2), actor=ACTOR
    )
    assert change.events == () and change.incident == incident


def test_reorder_needs_every_task_once() -> None:
    incident = with_tasks("a", "b", "c")
    change = tasks.reorder_tasks(incident, ["t3", "t1", "t2"], now=at(2), actor=ACTOR)
    assert [(t.id, t.order) for t in change.incident.tasks] == [("t3", 1), ("t1", 2), ("t2", 3)]
    assert [e.type for e in change.events] == ["TASKS_REORDERED"]
    for wrong in (["t1", "t2"], ["t1", "t1", "t2"], ["t1", "t2", "t9"]):
        with pytest.raises(DomainError) as refused:
            tasks.reorder_tasks(incident, wrong, now=at(2), actor=ACTOR)
        assert refused.value.field == ("input", "taskIds")


def test_refused_input_names_the_field() -> None:
    incident = with_tasks("a")
    cases = [
        (lambda: tasks.add_tasks(incident, [("x", tasks.TaskSpec(" "))], now=at(2), actor=ACTOR),
         ("input", "title")),
        (lambda: tasks.update_task(incident, "nope", tasks.TaskEdit(title="b"), now=at(2),
                                   actor=ACTOR), ("input", "id")),
        (lambda: tasks.update_task(incident, "t1", tasks.TaskEdit(title="x" * 201), now=at(2),
                                   actor=ACTOR), ("input", "title")),
    ]  # fmt: skip
    for call, field in cases:
        with pytest.raises(DomainError) as refused:
            call()
        assert refused.value.field == field


def test_a_closed_incident_takes_no_tasks() -> None:
    closed = replace(with_tasks("a"), status=IncidentStatus.CLOSED)
    with pytest.raises(DomainError) as refused:
        tasks.add_tasks(closed, [("x", tasks.TaskSpec("b"))], now=at(2), actor=ACTOR)
    assert refused.value.code is UserErrorCode.INVALID_TRANSITION
    with pytest.raises(DomainError):
        tasks.update_task(closed, "t1", tasks.TaskEdit(status=TaskStatus.DONE), now=at(2),
                          actor=ACTOR)  # fmt: skip


def test_the_checklist_is_bounded() -> None:
    full = with_tasks(*(f"task {n}" for n in range(tasks.TASKS_MAX)))
    with pytest.raises(DomainError) as refused:
        tasks.add_tasks(full, [("x", tasks.TaskSpec("one more"))], now=at(2), actor=ACTOR)
    assert str(tasks.TASKS_MAX) in refused.value.message
