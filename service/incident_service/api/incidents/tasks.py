"""An incident's task checklist over GraphQL: the Task type and its mutations."""

from __future__ import annotations

from datetime import datetime

import strawberry
from bson import ObjectId

from incident_service.api.context import Info
from incident_service.api.incidents.external_links import incident_of
from incident_service.api.incidents.mutations import apply_command, incident_payload
from incident_service.api.incidents.types import IncidentPayload
from incident_service.api.permissions import IsResponder
from incident_service.domain import incident as domain
from incident_service.domain import tasks
from incident_service.domain.enums import TaskStatus
from incident_service.domain.validation import object_id

strawberry.enum(
    TaskStatus,
    description="TODO (not started), DOING (someone is on it), DONE, or SKIPPED (not needed).",
)


@strawberry.type(description="One item of an incident's checklist. Internal: never public.")
class Task:
    id: strawberry.ID = strawberry.field(
        description="Stable id: `<incidentId>:<task>`, enough to name it in updateTask."
    )
    title: str = strawberry.field(description="What to do, 1..200 characters.")
    description: str | None = strawberry.field(description="How, or why.")
    assignee: str | None = strawberry.field(description="Who does it (an actor id or a name).")
    status: TaskStatus = strawberry.field(description="Where it stands.")
    due_at: datetime | None = strawberry.field(description="When it should be done by.")
    done_at: datetime | None = strawberry.field(description="When it was marked DONE or SKIPPED.")
    done_by: str | None = strawberry.field(description="Who marked it DONE or SKIPPED.")
    order: int = strawberry.field(description="Position in the checklist, from 1.")

    @classmethod
    def from_domain(cls, t: tasks.Task) -> Task:
        return cls(
            id=strawberry.ID(t.id),
            title=t.title,
            description=t.description,
            assignee=t.assignee,
            status=t.status,
            due_at=t.due_at,
            done_at=t.done_at,
            done_by=t.done_by,
            order=t.order,
        )


@strawberry.input(description="A task to add to an incident's checklist.")
class AddTaskInput:
    incident_id: strawberry.ID = strawberry.field(description="The incident.")
    title: str = strawberry.field(description="What to do, 1..200 characters.")
    description: str | None = strawberry.field(default=None, description="How, or why.")
    assignee: str | None = strawberry.field(default=None, description="Who does it.")
    due_at: datetime | None = strawberry.field(default=None, description="Done by then.")
    expected_version: int | None = strawberry.field(
        default=None, description="Fail with CONFLICT unless the incident is at this version."
    )


@strawberry.input(description="Changes to one task; omitted fields stay as they are.")
class UpdateTaskInput:
    id: strawberry.ID = strawberry.field(description="The task (its id names its incident).")
    title: str | None = strawberry.field(default=None, description="New title.")
    description: str | None = strawberry.field(default=None, description="New description.")
    assignee: str | None = strawberry.field(
        default=None, description='New assignee; "" removes it.'
    )
    status: TaskStatus | None = strawberry.field(
        default=None, description="New status; DONE and SKIPPED record who and when."
    )
    due_at: datetime | None = strawberry.field(default=None, description="New due time.")
    clear_due_at: bool = strawberry.field(default=False, description="Remove the due time.")
    expected_version: int | None = strawberry.field(
        default=None, description="Fail with CONFLICT unless the incident is at this version."
    )


@strawberry.input(description="A new order for an incident's checklist.")
class ReorderTasksInput:
    incident_id: strawberry.ID = strawberry.field(description="The incident.")
    task_ids: list[strawberry.ID] = strawberry.field(
        description="Every task of the incident, once each, in the new order."
    )
    expected_version: int | None = strawberry.field(
        default=None, description="Fail with CONFLICT unless the incident is at this version."
    )


@strawberry.type
class TaskMutations:
    @strawberry.mutation(
        description="Add a task to an incident's checklist (a TASK_ADDED event).",
        permission_classes=[IsResponder],
    )
    async def add_task(self, info: Info, input: AddTaskInput) -> IncidentPayload:
        spec = tasks.TaskSpec(input.title, input.description, input.assignee, input.due_at)

        async def work() -> domain.Incident:
            task_id = f"{object_id(input.incident_id, 'incidentId')}:{ObjectId()}"
            return await apply_command(
                info,
                input.incident_id,
                lambda i, now, actor: tasks.add_tasks(i, [(task_id, spec)], now=now, actor=actor),
                input.expected_version,
            )

        return await incident_payload(work)

    @strawberry.mutation(
        description="Change a task: its text, assignee, due time or status (TASK_UPDATED, "
        "TASK_STARTED, TASK_COMPLETED, TASK_SKIPPED or TASK_REOPENED events).",
        permission_classes=[IsResponder],
    )
    async def update_task(self, info: Info, input: UpdateTaskInput) -> IncidentPayload:
        edit = tasks.TaskEdit(
            title=input.title,
            description=input.description,
            assignee=input.assignee or None,
            status=input.status,
            due_at=input.due_at,
            clear_assignee=input.assignee == "",
            clear_due_at=input.clear_due_at,
        )

        async def work() -> domain.Incident:
            incident_id = incident_of(str(input.id))
            return await apply_command(
                info,
                incident_id,
                lambda i, now, actor: tasks.update_task(
                    i, str(input.id), edit, now=now, actor=actor
                ),
                input.expected_version,
            )

        return await incident_payload(work)

    @strawberry.mutation(
        description="Put an incident's tasks in a new order (a TASKS_REORDERED event).",
        permission_classes=[IsResponder],
    )
    async def reorder_tasks(self, info: Info, input: ReorderTasksInput) -> IncidentPayload:
        ids = [str(t) for t in input.task_ids]

        async def work() -> domain.Incident:
            return await apply_command(
                info,
                input.incident_id,
                lambda i, now, actor: tasks.reorder_tasks(i, ids, now=now, actor=actor),
                input.expected_version,
            )

        return await incident_payload(work)
