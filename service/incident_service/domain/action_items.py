"""Action items: the follow-up work a review decides, each owned and due. No I/O.

An action item belongs to one incident and outlives it: items are added and
worked after the incident is CLOSED. Each change is an INTERNAL event on the
incident's timeline (ACTION_ITEM_ADDED, ACTION_ITEM_UPDATED, and
ACTION_ITEM_COMPLETED when it becomes DONE), recorded without raising the
incident's version; the item has its own `version` guarding its updates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from incident_service.domain import validation
from incident_service.domain.enums import Priority, UserErrorCode
from incident_service.domain.errors import DomainError
from incident_service.domain.errors import validation as invalid
from incident_service.domain.incident import Event, Incident, field_name, json_value, recorder

URL_MAX = 2000
_URL = re.compile(r"https?://[^\s]+")


class ActionItemStatus(StrEnum):
    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"
    WONT_DO = "WONT_DO"


#: Statuses of work still to do (the ones that can be overdue).
PENDING = frozenset({ActionItemStatus.OPEN, ActionItemStatus.IN_PROGRESS})


@dataclass(frozen=True)
class ActionItem:
    id: str
    incident_id: str
    title: str
    owner: str
    priority: Priority
    status: ActionItemStatus
    created_at: datetime
    created_by: str
    updated_at: datetime
    description: str | None = None
    due_at: datetime | None = None
    url: str | None = None
    #: When it became DONE or WONT_DO (None while pending).
    completed_at: datetime | None = None
    version: int = 1

    @property
    def pending(self) -> bool:
        return self.status in PENDING

    def overdue(self, now: datetime) -> bool:
        return self.pending and self.due_at is not None and self.due_at < now


@dataclass(frozen=True)
class NewActionItem:
    title: str
    owner: str
    description: str | None = None
    due_at: datetime | None = None
    priority: Priority = Priority.P3
    url: str | None = None


@dataclass(frozen=True)
class ActionItemUpdate:
    """Fields to change; None leaves a field as it is (a blank description or url clears it)."""

    title: str | None = None
    description: str | None = None
    owner: str | None = None
    due_at: datetime | None = None
    priority: Priority | None = None
    status: ActionItemStatus | None = None
    url: str | None = None


@dataclass(frozen=True)
class ActionItemChange:
    item: ActionItem
    #: Events for the incident's timeline (none: nothing changed).
    events: tuple[Event, ...]


def add(
    cmd: NewActionItem, incident: Incident, *, id: str, now: datetime, actor: str
) -> ActionItemChange:
    item = ActionItem(
        id=id,
        incident_id=incident.id,
        title=validation.title(cmd.title),
        description=validation.text(cmd.description, "description"),
        owner=validation.name(cmd.owner, "owner"),
        due_at=cmd.due_at,
        priority=cmd.priority,
        status=ActionItemStatus.OPEN,
        url=_url(cmd.url),
        created_at=now,
        created_by=actor,
        updated_at=now,
    )
    rec = recorder(incident, now, actor)
    rec.add(
        "ACTION_ITEM_ADDED",
        f"Action item added: {item.title} (owner {item.owner})",
        actionItemId=item.id,
        title=item.title,
        owner=item.owner,
        dueAt=json_value(item.due_at),
        priority=item.priority.value,
    )
    return ActionItemChange(item, tuple(rec.events))


def update(
    item: ActionItem,
    cmd: ActionItemUpdate,
    incident: Incident,
    *,
    expected_version: int,
    now: datetime,
    actor: str,
) -> ActionItemChange:
    if expected_version != item.version:
        raise DomainError(
            UserErrorCode.CONFLICT,
            f"expectedVersion {expected_version} is stale: the action item is at version "
            f"{item.version}; re-read it and retry",
            ("input", "expectedVersion"),
        )
    changes: dict[str, Any] = {}
    if cmd.title is not None:
        changes["title"] = validation.title(cmd.title)
    if cmd.description is not None:
        changes["description"] = validation.text(cmd.description, "description")
    if cmd.owner is not None:
        changes["owner"] = validation.name(cmd.owner, "owner")
    if cmd.due_at is not None:
        changes["due_at"] = cmd.due_at
    if cmd.priority is not None:
        changes["priority"] = cmd.priority
    if cmd.status is not None:
        changes["status"] = cmd.status
    if cmd.url is not None:
        changes["url"] = _url(cmd.url)
    diff = {k: v for k, v in changes.items() if getattr(item, k) != v}
    if not diff:
        return ActionItemChange(item, ())
    new = replace(item, **diff, updated_at=now, version=item.version + 1)
    if "status" in diff:
        new = replace(new, completed_at=None if new.pending else now)
    rec = recorder(incident, now, actor)
    data = {
        "actionItemId": item.id,
        "fields": {field_name(k): json_value(v) for k, v in diff.items()},
    }
    if diff.get("status") is ActionItemStatus.DONE:
        rec.add("ACTION_ITEM_COMPLETED", f"Action item done: {new.title}", **data)
    else:
        names = ", ".join(field_name(k) for k in diff)
        rec.add("ACTION_ITEM_UPDATED", f"Action item updated: {new.title} ({names})", **data)
    return ActionItemChange(new, tuple(rec.events))


def _url(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    cleaned = value.strip()
    if len(cleaned) > URL_MAX or not _URL.fullmatch(cleaned):
        raise invalid("url", f"url must be an http(s) address of at most {URL_MAX} characters")
    return cleaned
