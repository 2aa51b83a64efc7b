"""An incident's task checklist: what the team has to do, in order, and who does it.

Tasks live on the incident (like its roles and links), so adding or ticking
one is an ordinary incident change: one version, timeline events, one
transaction. They are internal: nothing here ever reaches the status page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from incident_service.domain import validation
from incident_service.domain.enums import TaskStatus, UserErrorCode
from incident_service.domain.errors import DomainError
from incident_service.domain.errors import validation as invalid
from incident_service.domain.incident import Change, Incident, Recorder, require_not_closed

#: Tasks one incident may hold (a playbook has a dozen or two).
TASKS_MAX = 200
_FINISHED = (TaskStatus.DONE, TaskStatus.SKIPPED)


@dataclass(frozen=True)
class Task:
    id: str
    title: str
    status: TaskStatus
    order: int
    created_at: datetime
    description: str | None = None
    assignee: str | None = None
    due_at: datetime | None = None
    done_at: datetime | None = None
    done_by: str | None = None


@dataclass(frozen=True)
class TaskSpec:
    """A task to add: from a caller, or from a playbook template."""

    title: str
    description: str | None = None
    assignee: str | None = None
    due_at: datetime | None = None


@dataclass(frozen=True)
class TaskEdit:
    """What `update_task` changes; None leaves a field as it is (`clear_*` empties it)."""

    title: str | None = None
    description: str | None = None
    assignee: str | None = None
    status: TaskStatus | None = None
    due_at: datetime | None = None
    clear_assignee: bool = False
    clear_due_at: bool = False


def checked(spec: TaskSpec) -> TaskSpec:
    """The spec with its text cleaned; raises VALIDATION naming the field."""
    return TaskSpec(
        title=validation.title(spec.title, "title"),
        description=validation.text(spec.description, "description"),
        assignee=validation.name(spec.assignee, "assignee") if spec.assignee else None,
        due_at=spec.due_at,
    )


def add_tasks(
    incident: Incident,
    tasks: Sequence[tuple[str, TaskSpec]],
    *,
    now: datetime,
    actor: str,
) -> Change:
    """Append tasks (id, spec) after the incident's; one TASK_ADDED event each."""
    require_not_closed(incident)
    tasks_held = incident.tasks
    if len(tasks_held) + len(tasks) > TASKS_MAX:
        raise invalid("title", f"an incident holds at most {TASKS_MAX} tasks")
    rec = Recorder(incident.id, incident.last_seq, now, actor)
    added = []
    start = max((t.order for t in tasks_held), default=0)
    for n, (task_id, spec) in enumerate(tasks, start=1):
        spec = checked(spec)
        task = Task(
            id=task_id,
            title=spec.title,
            status=TaskStatus.TODO,
            order=start + n,
            created_at=now,
            description=spec.description,
            assignee=spec.assignee,
            due_at=spec.due_at,
        )
        added.append(task)
        rec.add("TASK_ADDED", f"Task added: {task.title}", taskId=task.id, title=task.title)
    return rec.commit(replace(incident, tasks=(*tasks_held, *added)))


def update_task(
    incident: Incident, task_id: str, edit: TaskEdit, *, now: datetime, actor: str
) -> Change:
    require_not_closed(incident)
    current = _find(incident.tasks, task_id)
    task = current
    rec = Recorder(incident.id, incident.last_seq, now, actor)
    if edit.title is not None or edit.description is not None:
        task = replace(
            task,
            title=validation.title(edit.title, "title") if edit.title else task.title,
            description=(
                validation.text(edit.description, "description")
                if edit.description is not None
                else task.description
            ),
        )
    if edit.clear_assignee or edit.assignee is not None:
        assignee = None if edit.clear_assignee else validation.name(edit.assignee or "", "assignee")
        task = replace(task, assignee=assignee)
    if edit.clear_due_at or edit.due_at is not None:
        task = replace(task, due_at=None if edit.clear_due_at else edit.due_at)
    if task != current:
        rec.add("TASK_UPDATED", f"Task updated: {task.title}", taskId=task.id)
    if edit.status is not None and edit.status is not task.status:
        task = _moved(task, edit.status, now, actor)
        rec.add(
            _STATUS_EVENTS[edit.status],
            f"Task {_STATUS_WORDS[edit.status]}: {task.title}",
            taskId=task.id,
            status=edit.status.value,
        )
    updated = tuple(task if t.id == task_id else t for t in incident.tasks)
    return rec.commit(replace(incident, tasks=updated))


def reorder_tasks(incident: Incident, ids: Sequence[str], *, now: datetime, actor: str) -> Change:
    """Put the tasks in the order of `ids`, which must name each task once."""
    require_not_closed(incident)
    tasks = incident.tasks
    if sorted(ids) != sorted(t.id for t in tasks) or len(set(ids)) != len(ids):
        raise invalid("taskIds", "taskIds must name every task of the incident once")
    position = {task_id: n for n, task_id in enumerate(ids, start=1)}
    reordered = tuple(
        sorted((replace(t, order=position[t.id]) for t in tasks), key=lambda t: t.order)
    )
    rec = Recorder(incident.id, incident.last_seq, now, actor)
    if [t.id for t in sorted(tasks, key=lambda t: t.order)] != list(ids):
        rec.add("TASKS_REORDERED", "Tasks reordered", taskIds=list(ids))
    return rec.commit(replace(incident, tasks=reordered))


def open_tasks(tasks: Sequence[Task]) -> list[Task]:
    return [t for t in tasks if t.status not in _FINISHED]


_STATUS_EVENTS = {
    TaskStatus.TODO: "TASK_REOPENED",
    TaskStatus.DOING: "TASK_STARTED",
    TaskStatus.DONE: "TASK_COMPLETED",
    TaskStatus.SKIPPED: "TASK_SKIPPED",
}
_STATUS_WORDS = {
    TaskStatus.TODO: "reopened",
    TaskStatus.DOING: "started",
    TaskStatus.DONE: "done",
    TaskStatus.SKIPPED: "skipped",
}


def _moved(task: Task, status: TaskStatus, now: datetime, actor: str) -> Task:
    if status in _FINISHED:
        return replace(task, status=status, done_at=now, done_by=actor)
    return replace(task, status=status, done_at=None, done_by=None)


def _find(tasks: Sequence[Task], task_id: str) -> Task:
    for task in tasks:
        if task.id == task_id:
            return task
    raise DomainError(UserErrorCode.NOT_FOUND, "task not found", ("input", "id"))
